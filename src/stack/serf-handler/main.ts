/**
 * The Serf handler program, and the haproxy service's helpers:
 *
 *   main.js handle       Serf's -event-handler (SERF_EVENT=member-join|leave|failed|update|reap):
 *                        reconcile HAProxy with the whole membership, serially, bursts coalesced
 *   main.js render       write the config HAProxy starts with (before `exec haproxy`)
 *   main.js wait-ready   report readiness on NOTIFY_FD once HAProxy answers on its admin socket
 *
 * Env: STACK_RUN_DIR, STACK_TEMPLATE_DIR, SERF_RPC_ADDR, SERF_BIN, HAPROXY_BIN, STACK_DRAIN_TIMEOUT_MS,
 * STACK_LOG_FD and the HAPROXY_* settings (see settings.ts); STACK_APPLY=reload-sf switches to the
 * lab's apply method, for the benchmark (reload-sf.ts). Exit: 0 done, 1 failed (logged), 100 usage.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DEFAULT_TEMPLATE_DIR } from '../haproxy/render.js';
import { RuntimeApi } from '../haproxy/runtime-api.js';
import { haproxySettings, type HaproxySettings } from '../haproxy/settings.js';
import { haproxyBin, validateConfig } from '../haproxy/validate.js';
import { coalesceFiles, runCoalesced, tryLock, unlock } from './coalesce.js';
import { handlerLogger } from './log.js';
import { serfMembers } from './members.js';
import { reconcile, ReconcileError, type ReconcileDeps } from './reconcile.js';
import { applyMode, reloadSfSettings } from './reload-sf.js';

const MEMBER_EVENTS = new Set(['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap']);

function deps(env: NodeJS.ProcessEnv, settings: HaproxySettings, log: Logger): ReconcileDeps {
  const rpcAddr = env.SERF_RPC_ADDR || '127.0.0.1:7373';
  return {
    settings,
    templateDir: env.STACK_TEMPLATE_DIR || DEFAULT_TEMPLATE_DIR,
    members: () => serfMembers(rpcAddr, env.SERF_BIN || 'serf'),
    validate: (file) => validateConfig(file, haproxyBin(env)),
    api: new RuntimeApi(settings.adminSocket, settings.masterSocket),
    log,
    drainTimeoutMs: Number(env.STACK_DRAIN_TIMEOUT_MS || 5000),
    // The lab's method, for bench/stack-scaling.ts: a new `haproxy -sf OLDPID` on every change.
    ...(applyMode(env) === 'reload-sf' ? { reloadSf: reloadSfSettings(env, settings.runDir) } : {}),
  };
}

async function handle(env: NodeJS.ProcessEnv, settings: HaproxySettings, log: Logger): Promise<number> {
  const event = env.SERF_EVENT ?? '';
  if (!MEMBER_EVENTS.has(event)) {
    log.debug({ event: 'ignored', serfEvent: event }, 'ignored');
    return 0;
  }
  const started = performance.now();
  let failed = false;
  const result = await runCoalesced(coalesceFiles(settings.runDir), async () => {
    try {
      const outcome = await reconcile(deps(env, settings, log), 'apply');
      if (outcome.kind === 'applied' && outcome.failed > 0) failed = true;
      log.info({ event: 'reconciled', serfEvent: event, ...outcome, ms: Math.round(performance.now() - started) }, 'reconciled');
    } catch (err) {
      failed = true;
      const step = err instanceof ReconcileError ? err.step : 'internal';
      // The old config keeps serving: nothing was installed or applied.
      log.error({ event: `${step}-failed`, serfEvent: event, error: (err as Error).message }, `${step}-failed: the running config is unchanged`);
    }
  });
  if (!result.ran) log.info({ event: 'coalesced', serfEvent: event }, 'coalesced: the running handler will apply it');
  return failed ? 1 : 0;
}

async function render(env: NodeJS.ProcessEnv, settings: HaproxySettings, log: Logger): Promise<number> {
  const files = coalesceFiles(settings.runDir);
  // A handler may be applying right now; wait for it (bounded), the file must be whole.
  for (let i = 0; !tryLock(files); i++) {
    if (i >= 200) {
      log.error({ event: 'lock-timeout', lock: files.lock }, 'lock-timeout: another handler holds the lock for 10 s');
      return 1;
    }
    await sleep(50);
  }
  try {
    const outcome = await reconcile(deps(env, settings, log), 'render-only');
    log.info({ event: 'rendered', ...outcome, config: settings.configPath }, 'rendered');
    return 0;
  } catch (err) {
    const step = err instanceof ReconcileError ? err.step : 'internal';
    // With a good config from before, HAProxy starts with that one; the error stays in the log.
    const fallback = existsSync(settings.configPath);
    log.error({ event: `${step}-failed`, error: (err as Error).message, fallback: fallback ? settings.configPath : null }, `${step}-failed`);
    return fallback ? 0 : 1;
  } finally {
    unlock(files);
  }
}

/** A notification fd: a pipe (s6) or a socketpair (warden, through libuv). */
function isPipe(fd: number): boolean {
  const stat = fstatSync(fd);
  return stat.isFIFO() || stat.isSocket();
}

async function waitReady(env: NodeJS.ProcessEnv, settings: HaproxySettings, log: Logger): Promise<number> {
  const fd = Number(env.NOTIFY_FD);
  const api = new RuntimeApi(settings.adminSocket, settings.masterSocket);
  const limitMs = Number(env.STACK_READY_TIMEOUT_MS || 30_000);
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if ((await api.workerPid()) !== null) {
      try {
        if (Number.isInteger(fd) && fd >= 3 && isPipe(fd)) {
          writeSync(fd, '\n');
          closeSync(fd);
        }
      } catch {
        // Nobody waits for readiness.
      }
      return 0;
    }
    await sleep(50);
  }
  log.error({ event: 'not-ready', socket: settings.adminSocket, ms: limitMs }, 'haproxy did not answer on its admin socket');
  return 1;
}

async function main(): Promise<number> {
  const env = process.env;
  const log = handlerLogger(env);
  let settings: HaproxySettings;
  try {
    settings = haproxySettings(env);
    mkdirSync(settings.runDir, { recursive: true });
  } catch (err) {
    log.error({ event: 'bad-setting', error: (err as Error).message }, 'bad-setting');
    return 100;
  }
  const mode = process.argv[2] ?? 'handle';
  switch (mode) {
    case 'handle':
      return handle(env, settings, log);
    case 'render':
      return render(env, settings, log);
    case 'wait-ready':
      return waitReady(env, settings, log);
    default:
      log.error({ event: 'bad-usage', mode }, 'usage: main.js handle|render|wait-ready');
      return 100;
  }
}

process.exitCode = await main();
