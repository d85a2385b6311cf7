import type { Schedule } from './edges.js';

/** Listens for changes; returns how to stop listening. */
export type Subscribe = (listener: () => void) => () => void;

/**
 * Resolves true once `done()` holds (checked now and on each change), false after `timeoutMs`
 * or once `cancel` aborts (a client that went away stops costing a listener).
 */
export function waitUntil(schedule: Schedule, subscribe: Subscribe, done: () => boolean, timeoutMs: number, cancel?: AbortSignal): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  if (cancel?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (result: boolean): void => {
      cancelTimer?.();
      unsubscribe();
      cancel?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => finish(false);
    // Infinity: wait for ever (a timer would fire at once for it).
    const cancelTimer = Number.isFinite(timeoutMs) ? schedule(timeoutMs, () => finish(false)) : undefined;
    const unsubscribe = subscribe(() => done() && finish(true));
    cancel?.addEventListener('abort', onAbort);
  });
}
