/**
 * One pass of the Serf handler: read the whole membership from the local agent (never trust the
 * event's delta), render haproxy.cfg, have HAProxy check it, install it, then bring the running
 * HAProxy in line: through the runtime API when only the servers differ, by a master-worker
 * reload when anything else in the rendered file changed. A render or a check that fails changes
 * nothing: the running HAProxy and the installed file stay as they were.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { loadTemplates, renderHaproxyConfig, renderServerArgs, type Server } from '../haproxy/render.js';
import { RuntimeApi } from '../haproxy/runtime-api.js';
import type { HaproxySettings } from '../haproxy/settings.js';
import { describeAction, diffServers, type ServerAction } from './diff.js';
import { desiredServers, type SerfMember } from './members.js';
import { currentPid, startReplacement, type ReloadSfSettings } from './reload-sf.js';

export interface ReconcileDeps {
  readonly settings: HaproxySettings;
  readonly templateDir: string;
  readonly members: () => Promise<SerfMember[]>;
  /** Throws when HAProxy rejects the file. */
  readonly validate: (file: string) => Promise<void>;
  readonly api: RuntimeApi;
  readonly log: Logger;
  /** How long a removed server may finish its in-flight requests before its sessions are cut. */
  readonly drainTimeoutMs: number;
  /**
   * Servers an earlier pass put in maintenance and could not delete yet (their connections were
   * still open), with when that began (performance.now()): kept by the caller across passes.
   */
  readonly draining: Map<string, number>;
  /**
   * Set with STACK_APPLY=reload-sf: apply every change the lab's way, a new `haproxy -sf OLDPID`
   * process with the whole config (reload-sf.ts), instead of the runtime API / master-worker reload.
   */
  readonly reloadSf?: ReloadSfSettings;
}

export type ReconcileOutcome =
  /** render-only: the file is written for HAProxy's start. */
  | { readonly kind: 'rendered'; readonly servers: readonly string[] }
  /** render-only without Serf: the installed config (last known members) is kept. */
  | { readonly kind: 'kept'; readonly reason: string }
  | { readonly kind: 'not-running'; readonly servers: readonly string[] }
  | { readonly kind: 'reloaded'; readonly servers: readonly string[] }
  /** `actions`: what this pass changed; `draining`: servers out of rotation, to delete in a later pass. */
  | {
      readonly kind: 'applied';
      readonly servers: readonly string[];
      readonly actions: readonly string[];
      readonly draining: readonly string[];
      readonly failed: number;
    }
  /** reload-sf: a new HAProxy process took over from `oldPid`. */
  | { readonly kind: 'replaced'; readonly servers: readonly string[]; readonly oldPid: number | null; readonly newPid: number | null }
  /** reload-sf: the running process already has this config. */
  | { readonly kind: 'unchanged'; readonly servers: readonly string[] };

/** Step that failed, for the log and the exit code. */
export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
  constructor(
    readonly step: 'members' | 'render' | 'check' | 'reload' | 'apply',
    message: string,
  ) {
    super(message);
  }
}

const skeletonPath = (s: HaproxySettings): string => `${s.configPath}.skeleton`;
/** reload-sf: the config the current HAProxy process was started with. */
const runningPath = (s: HaproxySettings): string => `${s.configPath}.running`;

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * `render-only` writes the config HAProxy is about to start with (the haproxy service's run
 * script); `apply` also changes the running HAProxy (the Serf handler).
 */
export async function reconcile(deps: ReconcileDeps, mode: 'apply' | 'render-only'): Promise<ReconcileOutcome> {
  const { settings, log } = deps;
  const installed = existsSync(settings.configPath);

  let members: SerfMember[];
  try {
    members = await deps.members();
  } catch (err) {
    if (mode === 'apply') throw new ReconcileError('members', (err as Error).message);
    // HAProxy starts before Serf (Serf depends on it): no members yet, or the last known ones.
    if (installed) return { kind: 'kept', reason: `serf unreachable (${(err as Error).message})` };
    members = [];
  }
  const servers = desiredServers(members, settings.serverPort);

  let config: string;
  let skeleton: string;
  try {
    const templates = loadTemplates(deps.templateDir);
    config = renderHaproxyConfig(servers, settings, templates);
    // The same file without servers: when only this stays equal, the runtime API suffices.
    skeleton = renderHaproxyConfig([], settings, templates);
  } catch (err) {
    throw new ReconcileError('render', (err as Error).message);
  }

  // The same render as the installed file was checked when it was installed: most passes (a
  // repeated line of the feed, a resync) end here without running `haproxy -c` again.
  if (!installed || (await readOrNull(settings.configPath)) !== config) await install(deps, config);
  const names = servers.map((s) => s.name);

  if (mode === 'render-only') {
    await writeAtomic(skeletonPath(settings), skeleton);
    if (deps.reloadSf) await writeAtomic(runningPath(settings), config);
    return { kind: 'rendered', servers: names };
  }

  if (deps.reloadSf) {
    if (currentPid(deps.reloadSf) === null) return { kind: 'not-running', servers: names };
    if ((await readOrNull(runningPath(settings))) === config) return { kind: 'unchanged', servers: names };
    let pids: { oldPid: number | null; newPid: number | null };
    try {
      pids = await startReplacement(deps.reloadSf, settings.configPath, deps.api);
    } catch (err) {
      throw new ReconcileError('reload', (err as Error).message);
    }
    await writeAtomic(runningPath(settings), config);
    return { kind: 'replaced', servers: names, ...pids };
  }

  const workerPid = await deps.api.workerPid();
  if (workerPid === null) return { kind: 'not-running', servers: names };

  // The skeleton file is what the running HAProxy was started or reloaded with.
  if ((await readOrNull(skeletonPath(settings))) !== skeleton) {
    await reload(deps, workerPid);
    await writeAtomic(skeletonPath(settings), skeleton);
    return { kind: 'reloaded', servers: names };
  }

  const running = await deps.api.serversState(settings.backend);
  const actions = diffServers(servers, running);
  let failed = 0;
  const changed: string[] = [];
  for (const action of actions) {
    try {
      const done = await applyAction(deps, action);
      if (done !== null) {
        changed.push(done);
        log.info({ event: 'server-changed', action: done }, done);
      }
    } catch (err) {
      failed++;
      log.error({ event: 'server-change-failed', action: describeAction(action), error: (err as Error).message }, 'server-change-failed');
    }
  }
  for (const name of deps.draining.keys()) if (!running.some((r) => r.name === name)) deps.draining.delete(name);
  if (actions.some((a) => a.kind === 'add')) {
    // Servers added at runtime get their SERVERID cookie only when dynamic cookies are (re)enabled.
    await deps.api.run(`enable dynamic-cookie backend ${settings.backend}`);
  }
  return { kind: 'applied', servers: names, actions: changed, draining: [...deps.draining.keys()], failed };
}

/** Writes the render beside the config, has HAProxy check it, and only then renames it over the config. */
async function install(deps: ReconcileDeps, config: string): Promise<void> {
  const candidate = `${deps.settings.configPath}.new`;
  await writeFile(candidate, config);
  try {
    await deps.validate(candidate);
  } catch (err) {
    await unlink(candidate).catch(() => undefined);
    throw new ReconcileError('check', (err as Error).message);
  }
  await rename(candidate, deps.settings.configPath);
}

async function reload(deps: ReconcileDeps, oldWorker: number): Promise<void> {
  try {
    await deps.api.reload();
  } catch (err) {
    throw new ReconcileError('reload', `master CLI reload failed: ${(err as Error).message}`);
  }
  // The master answers at once; wait until the new worker owns the admin socket, so the next
  // pass does not diff against the old one.
  for (let i = 0; i < 100; i++) {
    const pid = await deps.api.workerPid();
    if (pid !== null && pid !== oldWorker) return;
    await sleep(50);
  }
  throw new ReconcileError('reload', `no new worker answered on ${deps.settings.adminSocket} within 5 s of the reload (see HAProxy's log)`);
}

/** Applies one action; returns what changed, or null when nothing did (a server still draining). */
async function applyAction(deps: ReconcileDeps, action: ServerAction): Promise<string | null> {
  const { api, settings } = deps;
  const be = settings.backend;
  switch (action.kind) {
    case 'add':
      deps.draining.delete(action.server.name);
      await addServer(deps, action.server);
      return describeAction(action);
    case 'enable':
      deps.draining.delete(action.name);
      await api.run(`set server ${be}/${action.name} state ready`);
      return describeAction(action);
    case 'remove':
      // A moved server's name must be free before it is added again: drain and delete now.
      if (action.reason === 'moved') {
        await removeServer(deps, action.name);
        return describeAction(action);
      }
      return retireServer(deps, action.name);
    default: {
      const never: never = action;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

async function addServer(deps: ReconcileDeps, server: Server): Promise<void> {
  const { api, settings } = deps;
  const be = settings.backend;
  const args = renderServerArgs(server, settings, loadTemplates(deps.templateDir));
  await api.run(`add server ${be}/${args}`, ['New server registered.']);
  // A server added at runtime starts in maintenance with its checks off.
  await api.run(`enable health ${be}/${server.name}`);
  await api.run(`enable server ${be}/${server.name}`);
}

/**
 * A server no longer wanted, without holding up the pass (a join behind it would wait): at once
 * in maintenance (no new requests, sticky clients redispatched), deleted by the first pass that
 * finds its connections closed. The webapp closes them when it stops (after its quiet period),
 * so that takes ~1–1.5 s after a leave; after STACK_DRAIN_TIMEOUT_MS its sessions are cut.
 */
async function retireServer(deps: ReconcileDeps, name: string): Promise<string | null> {
  const { api, settings, draining } = deps;
  const be = settings.backend;
  const first = !draining.has(name);
  if (first) {
    await api.run(`set server ${be}/${name} state maint`);
    draining.set(name, performance.now());
  }
  const row = (await api.stat()).find((r) => r.proxy === be && r.server === name);
  if (row !== undefined && row.current > 0) {
    if (performance.now() - draining.get(name)! < deps.drainTimeoutMs) return first ? `out of rotation ${name}, draining` : null;
    deps.log.warn({ event: 'drain-timeout', server: name, sessions: row.current }, 'drain-timeout');
    await api.run(`shutdown sessions server ${be}/${name}`);
  }
  try {
    await api.run(`del server ${be}/${name}`, ['Server deleted.']);
  } catch {
    // Connections still being torn down: the next pass tries again.
    return first ? `out of rotation ${name}, draining` : null;
  }
  draining.delete(name);
  return first ? `out of rotation and deleted ${name}` : `deleted ${name}`;
}

/** Maintenance (no new requests, sticky ones redispatched), wait for in-flight ones, delete. */
async function removeServer(deps: ReconcileDeps, name: string): Promise<void> {
  const { api, settings } = deps;
  const be = settings.backend;
  await api.run(`set server ${be}/${name} state maint`);
  const deadline = Date.now() + deps.drainTimeoutMs;
  for (;;) {
    const row = (await api.stat()).find((r) => r.proxy === be && r.server === name);
    if (row === undefined || row.current === 0) break;
    if (Date.now() >= deadline) {
      deps.log.warn({ event: 'drain-timeout', server: name, sessions: row.current }, 'drain-timeout');
      await api.run(`shutdown sessions server ${be}/${name}`);
      break;
    }
    await sleep(50);
  }
  // `del server` refuses while connections are still being torn down: a few short retries.
  for (let attempt = 1; ; attempt++) {
    try {
      await api.run(`del server ${be}/${name}`, ['Server deleted.']);
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(100);
    }
  }
}
