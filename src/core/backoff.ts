import type { RestartDelay } from './service-spec.js';

/** Step of the exponential backoff when the configured minimum is 0. */
export const BACKOFF_BASE_MS = 100;

/** Quick deaths in a row after which the service is said to be in a crash loop. */
export const CRASH_LOOP_STREAK = 5;

/**
 * Delay before restart number `streak` of a run of quick deaths (1 = the first death).
 * The first restart waits MIN (0 by default: at once); each further quick death doubles
 * the wait, from max(MIN, 100 ms), up to MAX.
 */
export function restartDelayMs(streak: number, delay: RestartDelay): number {
  if (streak <= 1) return delay.minMs;
  const base = Math.max(delay.minMs, BACKOFF_BASE_MS);
  // Cap the exponent: 2^31 ms is far beyond any sane MAX, and avoids Infinity.
  const grown = base * 2 ** Math.min(streak - 2, 31);
  return Math.min(delay.maxMs, Math.max(delay.minMs, grown));
}
