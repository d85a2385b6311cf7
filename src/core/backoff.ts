import type { RestartDelay } from './service-spec.js';

/** First step of the backoff when the configured minimum is 0 (the first restart is immediate). */
export const BACKOFF_BASE_MS = 100;

/**
 * The least wait before restarting a service whose program could not be launched at all (a
 * missing `run`, a bad interpreter): whatever `restart-delay` says, such a loop must not keep
 * PID 1 busy, and s6-supervise itself waits a second between any two starts.
 */
export const LAUNCH_FAILED_DELAY_MS = 1000;

/** Quick deaths in a row after which the service is said to be in a crash loop. */
export const CRASH_LOOP_STREAK = 5;

/**
 * Delay before restart number `streak` of a run of quick deaths (1 = the first death).
 * The first waits MIN; each further quick death doubles the wait, up to MAX: MIN, 2·MIN, 4·MIN …
 * With MIN 0 (the default) the doubling starts from 100 ms: 0, 100, 200, 400 …
 */
export function restartDelayMs(streak: number, delay: RestartDelay): number {
  if (streak <= 1) return delay.minMs;
  const [base, exponent] = delay.minMs > 0 ? [delay.minMs, streak - 1] : [BACKOFF_BASE_MS, streak - 2];
  // Cap the exponent: 2^31 steps are far beyond any sane MAX, and it avoids Infinity.
  return Math.min(delay.maxMs, Math.max(delay.minMs, base * 2 ** Math.min(exponent, 31)));
}
