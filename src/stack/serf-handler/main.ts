/**
 * The balancer's membership handler, and the haproxy service's helpers:
 *
 *   main.js watch        the `serf-handler` service: follows the local agent's log stream
 *                        (monitor.ts) and, on every member change (and every STACK_RESYNC_MS),
 *                        reconciles HAProxy with the whole membership, serially, bursts coalesced
 *                        (watch-loop.ts, on the real edges made here)
 *   main.js render       write the config HAProxy starts with (before `exec haproxy`)
 *
 * Env: STACK_RUN_DIR, STACK_TEMPLATE_DIR, SERF_RPC_ADDR, SERF_BIN, HAPROXY_BIN, STACK_DRAIN_TIMEOUT_MS,
 * STACK_RESYNC_MS and the HAPROXY_* settings (see settings.ts); STACK_APPLY=reload-sf
 * switches to the lab's apply method, for the benchmark (reload-sf.ts). Exit: 0 done, 1 failed
 * (logged), 100 usage.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { realSchedule, systemClock } from '../../adapters/clock.js';
import { DEFAULT_TEMPLATE_DIR, loadTemplates } from '../haproxy/render.js';
import { RuntimeApi } from '../haproxy/runtime-api.js';
import { handlerTimings, haproxySettings, type HandlerTimings, type HaproxySettings } from '../haproxy/settings.js';
import { haproxyBin, validateConfig } from '../haproxy/validate.js';
import { coalesceFiles, runCoalesced, tryLock, unlock } from './coalesce.js';
import { handlerLogger } from './log.js';
import { serfMembers } from './members.js';
import { followMonitor } from './monitor.js';
import { ReconcileError, Reconciler } from './reconcile.js';
import { chooseStrategy } from './strategy.js';
import { startWatch } from './watch-loop.js';

/** The handler's passes for `command`, on the real edges: the local agent, the templates on disk, HAProxy. */
function reconciler(command: 'render' | 'watch', env: NodeJS.ProcessEnv, settings: HaproxySettings, log: Logger, timings: HandlerTimings): Reconciler {
  const rpcAddr = env.SERF_RPC_ADDR || '127.0.0.1:7373';
  const templateDir = env.STACK_TEMPLATE_DIR || DEFAULT_TEMPLATE_DIR;
  const api = new RuntimeApi(settings.adminSocket, settings.masterSocket);
  return new Reconciler(settings, chooseStrategy(command, env, settings.runDir, timings.drainTimeoutMs, api), {
    members: () => serfMembers(rpcAddr, env.SERF_BIN || 'serf'),
    templates: () => loadTemplates(templateDir),
    validate: (file) => validateConfig(file, haproxyBin(env)),
    api,
    now: () => systemClock.now(),
    sleep: (ms) => sleep(ms),
    log,
  });
}

async function watch(env: NodeJS.ProcessEnv, settings: HaproxySettings, timings: HandlerTimings, log: Logger): Promise<number> {
  const files = coalesceFiles(settings.runDir);
  const rpcAddr = env.SERF_RPC_ADDR || '127.0.0.1:7373';
  const loop = startWatch(
    {
      reconciler: reconciler('watch', env, settings, log, timings),
      coalesced: (pass) => runCoalesced(files, pass),
      follow: (feed) =>
        followMonitor({
          rpcAddr,
          bin: env.SERF_BIN || 'serf',
          retryMs: 250,
          schedule: realSchedule,
          ...feed,
          onConnect: () => {
            log.info({ event: 'following', rpcAddr }, 'following serf monitor');
            feed.onConnect();
          },
        }),
      clock: systemClock,
      schedule: realSchedule,
      log,
    },
    timings,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  await loop.stop();
  return 0;
}

async function render(env: NodeJS.ProcessEnv, settings: HaproxySettings, timings: HandlerTimings, log: Logger): Promise<number> {
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
    const outcome = await reconciler('render', env, settings, log, timings).pass();
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

async function main(): Promise<number> {
  const env = process.env;
  const log = handlerLogger(env);
  let settings: HaproxySettings;
  let timings: HandlerTimings;
  try {
    settings = haproxySettings(env);
    timings = handlerTimings(env);
    mkdirSync(settings.runDir, { recursive: true });
  } catch (err) {
    log.error({ event: 'bad-setting', error: (err as Error).message }, 'bad-setting');
    return 100;
  }
  const mode = process.argv[2] ?? 'watch';
  switch (mode) {
    case 'watch':
      return watch(env, settings, timings, log);
    case 'render':
      return render(env, settings, timings, log);
    default:
      log.error({ event: 'bad-usage', mode }, 'usage: main.js watch|render');
      return 100;
  }
}

// No top-level await: the balancer image runs this bundled as CommonJS (`warden js`, no Node there).
void main().then((code) => {
  process.exitCode = code;
});
