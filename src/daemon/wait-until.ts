/** Listens for changes; returns how to stop listening. */
export type Subscribe = (listener: () => void) => () => void;

/** Resolves true once `done()` holds (checked now and on each change), false after `timeoutMs`. */
export function waitUntil(subscribe: Subscribe, done: () => boolean, timeoutMs: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (result: boolean): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve(result);
    };
    // Infinity: wait for ever (setTimeout would fire at once for it).
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(false), timeoutMs) : undefined;
    const unsubscribe = subscribe(() => done() && finish(true));
  });
}
