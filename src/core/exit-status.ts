/** How a process ended, as `waitpid` tells it. */
export type ExitStatus =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'killed'; readonly signal: number };

/** The shell convention: the exit code, or 128 + the signal number. */
export function exitCodeOf(status: ExitStatus): number {
  return status.kind === 'exited' ? status.code : 128 + status.signal;
}

/** s6's finish argv: the exit code (256 when killed), then the signal number (0 when not killed). */
export function finishArgs(status: ExitStatus): [string, string] {
  return status.kind === 'exited' ? [String(status.code), '0'] : ['256', String(status.signal)];
}

/**
 * The exit code of a program warden could not start (or, for the CLI, no warden to talk to):
 * s6's 111, "a system call failed".
 */
export const CANNOT_RUN = 111;

/** How a run, finish or check that could not be launched counts: as if it exited 111. */
export const LAUNCH_FAILED: ExitStatus = { kind: 'exited', code: CANNOT_RUN };

export function isSuccess(status: ExitStatus): boolean {
  return status.kind === 'exited' && status.code === 0;
}
