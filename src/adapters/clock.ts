import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds: what the core calls `now`. Wall time never enters the core. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };
