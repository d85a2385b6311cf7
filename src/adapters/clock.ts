/** Monotonic milliseconds: what the core calls `now`. Wall time never enters the core. */
export interface Clock {
  now(): number;
}

/** Calls `fire` once, `ms` from now; returns what cancels it (a no-op once it fired). */
export type Schedule = (ms: number, fire: () => void) => () => void;

/** Node's timers. */
export const realSchedule: Schedule = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
};

// process.hrtime rather than performance.now(): the same monotonic clock, without loading
// perf_hooks (and the eight modules it pulls in) into PID 1 for its whole life. The origin is
// taken at the first call, not at import: the single executable may start from a V8 snapshot
// of its loaded modules (scripts/dist.mjs), made on another machine at another time.
let origin: bigint | undefined;

/** Milliseconds since the first call, like performance.now() since the process began. */
export const systemClock: Clock = {
  now: () => {
    const at = process.hrtime.bigint();
    origin ??= at;
    return Number(at - origin) / 1e6;
  },
};
