/** Monotonic milliseconds: what the core calls `now`. Wall time never enters the core. */
export interface Clock {
  now(): number;
}

// process.hrtime rather than performance.now(): the same monotonic clock, without loading
// perf_hooks (and the eight modules it pulls in) into PID 1 for its whole life.
const origin = process.hrtime.bigint();

/** Milliseconds since this module was loaded, like performance.now() since the process began. */
export const systemClock: Clock = { now: () => Number(process.hrtime.bigint() - origin) / 1e6 };
