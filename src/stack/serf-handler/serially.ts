/**
 * The handler's passes, one at a time: a burst of feed lines during a pass makes exactly one
 * more pass after it (every pass reads the whole membership, so one is enough), never one per line.
 */

/** Calls `run` one at a time: a call while it runs makes it run once more after, not twice. */
export function serially(run: () => Promise<void>): { trigger: () => void; idle: () => Promise<void> } {
  let current: Promise<void> | null = null;
  let again = false;
  const loop = async (): Promise<void> => {
    do {
      again = false;
      await run();
    } while (again);
    current = null;
  };
  return {
    trigger: () => {
      if (current) again = true;
      else current = loop();
    },
    idle: () => current ?? Promise.resolve(),
  };
}
