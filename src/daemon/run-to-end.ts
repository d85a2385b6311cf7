/**
 * A program run to its end, as the oneshots and the cont-init.d / cont-finish.d scripts are: no
 * supervision, at most a deadline past which it is SIGKILLed, and how it ended in words.
 */
import type { ExitStatus } from '../core/exit-status.js';
import type { DaemonEdges } from './edges.js';

export type RunOutcome =
  | { readonly kind: 'ended'; readonly status: ExitStatus; readonly timedOut: boolean }
  | { readonly kind: 'not-started'; readonly error: string };

export interface RunCommand {
  readonly file: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
}

/**
 * Runs `command` in warden's environment to its end; past `timeoutMs` (Infinity: no limit) it is
 * SIGKILLed, and the outcome says it timed out. Never throws.
 */
export function runToEnd(edges: Pick<DaemonEdges, 'launcher' | 'schedule' | 'signal' | 'env'>, command: RunCommand, timeoutMs: number): Promise<RunOutcome> {
  return new Promise((resolve) => {
    let timedOut = false;
    let cancelTimer: (() => void) | undefined;
    const launched = edges.launcher.launch({
      ...command,
      env: edges.env,
      detached: false,
      onExit: (status) => {
        cancelTimer?.();
        resolve({ kind: 'ended', status, timedOut });
      },
    });
    if (!launched.ok) return resolve({ kind: 'not-started', error: launched.error });
    if (Number.isFinite(timeoutMs)) {
      cancelTimer = edges.schedule(timeoutMs, () => {
        timedOut = true;
        edges.signal(launched.pid, 'SIGKILL');
      });
    }
  });
}

/** How a program ended, for a log line: `exited 3`, `was killed by signal 9`. */
export function howItEnded(status: ExitStatus): string {
  return status.kind === 'exited' ? `exited ${status.code}` : `was killed by signal ${status.signal}`;
}
