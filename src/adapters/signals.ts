/** Sends `signal` to `pid` (a negative pid: its process group); false when it is already gone. */
export type SendSignal = (pid: number, signal: string | number) => boolean;

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

/** Does `pid` exist (a zombie counts)? EPERM: it does, but is not ours to signal. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
