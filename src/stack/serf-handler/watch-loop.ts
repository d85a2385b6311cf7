/**
 * The `serf-handler` service's loop: each member change the feed reports, and a resync now and
 * then, asks for a reconcile pass. Passes run one at a time and a burst during one makes exactly
 * one more (serially.ts); a failed pass is tried again with backoff; servers left draining are
 * looked at again until they can be deleted. Everything the loop does outside itself comes in
 * as `WatchEdges`: main.ts gives it the local agent's feed, the lock files, the reconciler on
 * the real HAProxy and Node's timers; the unit tests drive it in virtual time.
 */
import type { Clock, Schedule } from '../../adapters/clock.js';
import type { HandlerTimings } from '../haproxy/settings.js';
import type { MonitorOptions } from './monitor.js';
import { ReconcileError, type PassLog, type Reconciler } from './reconcile.js';
import { serially } from './serially.js';

/** How soon a failed pass is tried again the first time; each failure after doubles it, up to the resync. */
export const RETRY_FIRST_MS = 500;
/** A pass that found the lock held (the haproxy service rendering at HAProxy's start) tries again this soon. */
export const LOCKED_RETRY_MS = 100;
/** While servers drain, how soon a pass looks again whether they can be deleted. */
export const DRAIN_POLL_MS = 250;
/** How long past the drain timeout those looks go on; then the resync keeps trying. */
const DRAIN_GRACE_MS = 5000;

export interface WatchLog extends PassLog {
  debug(fields: object, message: string): void;
}

/** What the loop hears from the membership feed (monitor.ts). */
export type Feed = Pick<MonitorOptions, 'onChange' | 'onConnect' | 'onDrop'>;

export interface WatchEdges {
  readonly reconciler: Pick<Reconciler, 'pass' | 'drainingSince'>;
  /**
   * Runs `pass`, and again while marks arrive, under the lock the haproxy service's `render`
   * shares (coalesce.ts); `ran` is false when another process held it.
   */
  readonly coalesced: (pass: () => Promise<void>) => Promise<{ readonly ran: boolean }>;
  /** Starts following the feed; returns what stops it. */
  readonly follow: (feed: Feed) => () => void;
  /** The reconciler's clock: `drainingSince` is read against it. */
  readonly clock: Clock;
  readonly schedule: Schedule;
  readonly log: WatchLog;
}

export interface Watch {
  /** Stops the feed and every timer; resolves once a pass that has begun has finished (a drain in progress completes). */
  stop(): Promise<void>;
}

/** Follows the feed and reconciles on every change until `stop`. */
export function startWatch(edges: WatchEdges, timings: HandlerTimings): Watch {
  const { reconciler, clock, schedule, log } = edges;
  let stopped = false;
  const noTimer = (): void => undefined;
  let cancelDrain: (() => void) | null = null;
  // A pass that failed (serf members or HAProxy's check slow on a loaded machine, HAProxy
  // restarting) is tried again soon, with backoff: the feed may say nothing more for a long time
  // (a leave's lines all come at once), and the resync alone would leave the change undone for
  // up to STACK_RESYNC_MS.
  let cancelRetry: (() => void) | null = null;
  let retryMs = 0;
  let cancelResync = noTimer;
  // What arrived since the last pass began, and when the first of it did (for the log's `ms`).
  let changes: string[] = [];
  let since = clock.now();

  const pass = async (): Promise<void> => {
    const cause = changes;
    const started = since;
    changes = [];
    try {
      const outcome = await reconciler.pass();
      const quiet = outcome.kind === 'applied' && outcome.actions.length === 0 && outcome.failed === 0;
      // A pass that changed nothing (a repeated line, a resync, a drain poll) is not news.
      log[quiet ? 'debug' : 'info']({ event: 'reconciled', changes: cause, ...outcome, ms: Math.round(clock.now() - started) }, 'reconciled');
      if (outcome.kind === 'applied' && outcome.draining.length > 0) pollDrain();
      retryMs = 0;
    } catch (err) {
      const step = err instanceof ReconcileError ? err.step : 'internal';
      retryMs = Math.min(retryMs === 0 ? RETRY_FIRST_MS : retryMs * 2, timings.resyncMs);
      // The old config keeps serving: nothing was installed or applied.
      log.error({ event: `${step}-failed`, changes: cause, error: (err as Error).message, retryInMs: retryMs }, `${step}-failed: the running config is unchanged`);
      if (cancelRetry === null && !stopped) {
        cancelRetry = schedule(retryMs, () => {
          cancelRetry = null;
          note('retry');
        });
      }
    }
  };
  const passes = serially(async () => {
    // The lock keeps a pass apart from the haproxy service's `render` (at HAProxy's start).
    while (!(await edges.coalesced(pass)).ran) await new Promise<void>((resolve) => schedule(LOCKED_RETRY_MS, resolve));
  });
  // Servers out of rotation are deleted once their connections are closed: look again soon, for
  // as long as a drain may take (then the resync keeps trying).
  const pollDrain = (): void => {
    const oldest = reconciler.drainingSince();
    if (stopped || cancelDrain !== null || oldest === null || clock.now() - oldest > timings.drainTimeoutMs + DRAIN_GRACE_MS) return;
    cancelDrain = schedule(DRAIN_POLL_MS, () => {
      cancelDrain = null;
      note('drain');
    });
  };
  const note = (what: string): void => {
    if (stopped) return;
    if (changes.length === 0) since = clock.now();
    changes.push(what);
    passes.trigger();
  };
  const stopFeed = edges.follow({
    onChange: (change, node) => note(`${change} ${node}`),
    // The stream (re)connected: whatever happened while it was down is unknown.
    onConnect: () => note('resync'),
    onDrop: (reason) => log.warn({ event: 'monitor-dropped', reason }, 'monitor-dropped: reconnecting'),
  });
  // A missed line (or a failed pass) is made good by a full pass now and then.
  const resync = (): void => {
    cancelResync = schedule(timings.resyncMs, () => {
      note('resync');
      resync();
    });
  };
  resync();
  return {
    stop: async () => {
      stopped = true;
      cancelResync();
      cancelDrain?.();
      cancelRetry?.();
      stopFeed();
      await passes.idle();
    },
  };
}
