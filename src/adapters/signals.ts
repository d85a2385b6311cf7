/** Sends a signal; a process that is already gone is not an error (it raced us to its death). */
export function sendSignal(pid: number, signal: NodeJS.Signals | string | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
