/**
 * One pass of the Serf handler: read the whole membership from the local agent (never trust the
 * event's delta), render haproxy.cfg, have HAProxy check it, install it, then bring the running
 * HAProxy in line as the strategy (strategy.ts) says. A render or a check that fails changes
 * nothing: the running HAProxy and the installed file stay as they were.
 *
 * Everything a pass reads or changes outside itself but the run dir's files comes in as an edge
 * (`ReconcileEdges`): the membership, the templates, HAProxy's check, its runtime API, the clock
 * and sleep. The unit tests drive passes in virtual time through them; the integration test
 * gives them a real HAProxy.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { compileTemplates, type Renderer, type Server, type Templates } from '../haproxy/render.js';
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import type { HaproxySettings } from '../haproxy/settings.js';
import { describeAction, diffServers, type ServerAction } from './diff.js';
import { desiredServers, type SerfMember } from './members.js';
import type { Strategy } from './strategy.js';

/** What a pass logs (pino's Logger is one). */
export interface PassLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ReconcileEdges {
  readonly members: () => Promise<SerfMember[]>;
  /** Read at every pass: a template fixed on disk is used by the next pass. */
  readonly templates: () => Templates;
  /** Throws when HAProxy rejects the file. */
  readonly validate: (file: string) => Promise<void>;
  readonly api: Pick<RuntimeApi, 'run' | 'serversState' | 'stat' | 'workerPid' | 'reload'>;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: PassLog;
}

export type ReconcileOutcome =
  /** render: the file is written for HAProxy's start. */
  | { readonly kind: 'rendered'; readonly servers: readonly string[] }
  /** render without Serf: the installed config (last known members) is kept. */
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

/** How many times a reload looks for the new worker, `RELOAD_POLL_MS` apart. */
const RELOAD_POLLS = 100;
const RELOAD_POLL_MS = 50;
/** A moved server: how often its sessions are looked at while it drains, and `del server` retried. */
const DRAIN_POLL_MS = 50;
const DELETE_TRIES = 20;
const DELETE_RETRY_MS = 100;

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

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The handler's passes under one strategy. It keeps what outlives a pass: the servers put in
 * maintenance that could not be deleted yet (their connections were still open), with when that
 * began.
 */
export class Reconciler {
  private readonly draining = new Map<string, number>();

  constructor(
    readonly settings: HaproxySettings,
    readonly strategy: Strategy,
    private readonly edges: ReconcileEdges,
  ) {}

  /** When the longest-draining server went out of rotation (edges.now()), or null when none drains. */
  drainingSince(): number | null {
    return this.draining.size === 0 ? null : Math.min(...this.draining.values());
  }

  /** One pass: membership → render → check and install → the strategy's change to HAProxy. */
  async pass(): Promise<ReconcileOutcome> {
    const { settings, strategy, edges } = this;
    const installed = existsSync(settings.configPath);

    let members: SerfMember[];
    try {
      members = await edges.members();
    } catch (err) {
      if (strategy.kind !== 'render') throw new ReconcileError('members', message(err));
      // HAProxy starts before Serf (Serf depends on it): no members yet, or the last known ones.
      if (installed) return { kind: 'kept', reason: `serf unreachable (${message(err)})` };
      members = [];
    }
    const servers = desiredServers(members, settings.serverPort);

    // Compiled once for the pass: the file, the skeleton and every added server's line.
    let renderer: Renderer;
    let config: string;
    let skeleton: string;
    try {
      renderer = compileTemplates(edges.templates());
      config = renderer.config(servers, settings);
      // The same file without servers: when only this stays equal, the runtime API suffices.
      skeleton = renderer.config([], settings);
    } catch (err) {
      throw new ReconcileError('render', message(err));
    }

    // The same render as the installed file was checked when it was installed: most passes (a
    // repeated line of the feed, a resync) end here without running `haproxy -c` again.
    if (!installed || (await readOrNull(settings.configPath)) !== config) await this.install(config);
    const names = servers.map((s) => s.name);

    switch (strategy.kind) {
      case 'render':
        // What the apply method that follows compares against: HAProxy starts with this file.
        if (strategy.then === 'reload-sf') await writeAtomic(runningPath(settings), config);
        else await writeAtomic(skeletonPath(settings), skeleton);
        return { kind: 'rendered', servers: names };
      case 'reload-sf': {
        if (strategy.running() === null) return { kind: 'not-running', servers: names };
        if ((await readOrNull(runningPath(settings))) === config) return { kind: 'unchanged', servers: names };
        let pids;
        try {
          pids = await strategy.replace(settings.configPath);
        } catch (err) {
          throw new ReconcileError('reload', message(err));
        }
        await writeAtomic(runningPath(settings), config);
        return { kind: 'replaced', servers: names, ...pids };
      }
      case 'runtime-api':
        return this.applyRuntime(servers, skeleton, renderer, strategy.drainTimeoutMs);
      default: {
        const never: never = strategy;
        throw new Error(`unknown strategy ${JSON.stringify(never)}`);
      }
    }
  }

  /** Writes the render beside the config, has HAProxy check it, and only then renames it over the config. */
  private async install(config: string): Promise<void> {
    const candidate = `${this.settings.configPath}.new`;
    await writeFile(candidate, config);
    try {
      await this.edges.validate(candidate);
    } catch (err) {
      await unlink(candidate).catch(() => undefined);
      throw new ReconcileError('check', message(err));
    }
    await rename(candidate, this.settings.configPath);
  }

  private async applyRuntime(servers: readonly Server[], skeleton: string, renderer: Renderer, drainTimeoutMs: number): Promise<ReconcileOutcome> {
    const { settings, edges } = this;
    const names = servers.map((s) => s.name);
    const workerPid = await edges.api.workerPid();
    if (workerPid === null) return { kind: 'not-running', servers: names };

    // The skeleton file is what the running HAProxy was started or reloaded with.
    if ((await readOrNull(skeletonPath(settings))) !== skeleton) {
      await this.reload(workerPid);
      await writeAtomic(skeletonPath(settings), skeleton);
      return { kind: 'reloaded', servers: names };
    }

    let running;
    try {
      running = await edges.api.serversState(settings.backend);
    } catch (err) {
      // HAProxy went away between the two questions (restarting): the next pass finds it back.
      throw new ReconcileError('apply', message(err));
    }
    const actions = diffServers(servers, running);
    let failed = 0;
    const changed: string[] = [];
    for (const action of actions) {
      try {
        const done = await this.applyAction(action, renderer, drainTimeoutMs);
        if (done !== null) {
          changed.push(done);
          edges.log.info({ event: 'server-changed', action: done }, done);
        }
      } catch (err) {
        failed++;
        edges.log.error({ event: 'server-change-failed', action: describeAction(action), error: message(err) }, 'server-change-failed');
      }
    }
    for (const name of this.draining.keys()) if (!running.some((r) => r.name === name)) this.draining.delete(name);
    if (actions.some((a) => a.kind === 'add')) {
      // Servers added at runtime get their SERVERID cookie only when dynamic cookies are (re)enabled.
      try {
        await edges.api.run(`enable dynamic-cookie backend ${settings.backend}`);
      } catch (err) {
        failed++;
        edges.log.error({ event: 'server-change-failed', action: 'enable dynamic-cookie', error: message(err) }, 'server-change-failed');
      }
    }
    return { kind: 'applied', servers: names, actions: changed, draining: [...this.draining.keys()], failed };
  }

  private async reload(oldWorker: number): Promise<void> {
    const { api } = this.edges;
    try {
      await api.reload();
    } catch (err) {
      throw new ReconcileError('reload', `master CLI reload failed: ${message(err)}`);
    }
    // The master answers at once; wait until the new worker owns the admin socket, so the next
    // pass does not diff against the old one. Counted in looks, not time: on a loaded machine
    // each look itself may take long.
    for (let i = 0; i < RELOAD_POLLS; i++) {
      const pid = await api.workerPid();
      if (pid !== null && pid !== oldWorker) return;
      await this.edges.sleep(RELOAD_POLL_MS);
    }
    throw new ReconcileError('reload', `no new worker answered on ${this.settings.adminSocket} after ${RELOAD_POLLS} looks ${RELOAD_POLL_MS} ms apart (see HAProxy's log)`);
  }

  /** Applies one action; returns what changed, or null when nothing did (a server still draining). */
  private async applyAction(action: ServerAction, renderer: Renderer, drainTimeoutMs: number): Promise<string | null> {
    const { api } = this.edges;
    const be = this.settings.backend;
    switch (action.kind) {
      case 'add':
        this.draining.delete(action.server.name);
        await api.run(`add server ${be}/${renderer.serverArgs(action.server, this.settings)}`, ['New server registered.']);
        // A server added at runtime starts in maintenance with its checks off.
        await api.run(`enable health ${be}/${action.server.name}`);
        await api.run(`enable server ${be}/${action.server.name}`);
        return describeAction(action);
      case 'enable':
        this.draining.delete(action.name);
        await api.run(`set server ${be}/${action.name} state ready`);
        return describeAction(action);
      case 'remove':
        // A moved server's name must be free before it is added again: drain and delete now.
        if (action.reason === 'moved') {
          await this.removeServer(action.name, drainTimeoutMs);
          return describeAction(action);
        }
        return this.retireServer(action.name, drainTimeoutMs);
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  private async sessions(name: string): Promise<number> {
    const row = (await this.edges.api.stat()).find((r) => r.proxy === this.settings.backend && r.server === name);
    return row?.current ?? 0;
  }

  /**
   * A server no longer wanted, without holding up the pass (a join behind it would wait): at once
   * in maintenance (no new requests, sticky clients redispatched), deleted by the first pass that
   * finds its connections closed. The webapp closes them when it stops (after its quiet period),
   * so that takes ~1–1.5 s after a leave; after the drain timeout its sessions are cut.
   */
  private async retireServer(name: string, drainTimeoutMs: number): Promise<string | null> {
    const { api, now, log } = this.edges;
    const be = this.settings.backend;
    const first = !this.draining.has(name);
    if (first) {
      await api.run(`set server ${be}/${name} state maint`);
      this.draining.set(name, now());
    }
    const sessions = await this.sessions(name);
    if (sessions > 0) {
      if (now() - this.draining.get(name)! < drainTimeoutMs) return first ? `out of rotation ${name}, draining` : null;
      log.warn({ event: 'drain-timeout', server: name, sessions }, 'drain-timeout');
      await api.run(`shutdown sessions server ${be}/${name}`);
    }
    try {
      await api.run(`del server ${be}/${name}`, ['Server deleted.']);
    } catch {
      // Connections still being torn down: the next pass tries again.
      return first ? `out of rotation ${name}, draining` : null;
    }
    this.draining.delete(name);
    return first ? `out of rotation and deleted ${name}` : `deleted ${name}`;
  }

  /** Maintenance (no new requests, sticky ones redispatched), wait for in-flight ones, delete. */
  private async removeServer(name: string, drainTimeoutMs: number): Promise<void> {
    const { api, now, sleep, log } = this.edges;
    const be = this.settings.backend;
    await api.run(`set server ${be}/${name} state maint`);
    const deadline = now() + drainTimeoutMs;
    for (;;) {
      const sessions = await this.sessions(name);
      if (sessions === 0) break;
      if (now() >= deadline) {
        log.warn({ event: 'drain-timeout', server: name, sessions }, 'drain-timeout');
        await api.run(`shutdown sessions server ${be}/${name}`);
        break;
      }
      await sleep(DRAIN_POLL_MS);
    }
    // `del server` refuses while connections are still being torn down: a few short retries.
    for (let attempt = 1; ; attempt++) {
      try {
        await api.run(`del server ${be}/${name}`, ['Server deleted.']);
        return;
      } catch (err) {
        if (attempt >= DELETE_TRIES) throw err;
        await sleep(DELETE_RETRY_MS);
      }
    }
  }
}
