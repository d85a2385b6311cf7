/**
 * CMD, the container's main program: started after the services, its exit ends the container.
 *
 * As under tini, CMD runs in a process group of its own, and when warden holds a terminal that
 * group becomes its foreground: Ctrl-C, Ctrl-Z and Ctrl-\ reach CMD alone, never PID 1 (which
 * would take SIGINT as "shut down"). warden takes the terminal back when CMD ends. CMD starts
 * with every signal at its default and none blocked (adapters/group-spawn), and warden's
 * reaper reaps it: Node did not spawn it.
 */
import type { GroupSpawnRequest, GroupSpawnResult } from '../adapters/group-spawn.js';
import type { Logger } from '../adapters/logger.js';
import type { Terminal } from '../adapters/terminal.js';
import { exitCodeOf, type ExitStatus } from '../core/exit-status.js';
import type { DaemonEdges } from './edges.js';

/** CMD's edges: its spawn (posix_spawn), the terminal it is handed, and a look at its state. */
export interface CommandSpawner {
  /** Spawns in a new process group whose id is its pid (and hands it `terminal`); may throw. */
  spawn(req: GroupSpawnRequest): GroupSpawnResult;
  /** stdin's terminal when warden holds its foreground, else null; throws when it cannot be asked. */
  foregroundTerminal(): Terminal | null;
  /** Gives the terminal back to warden's group if `group` still holds it; may throw. */
  takeBack(terminal: Terminal, group: number): void;
  /** `pid` is stopped (Ctrl-Z, SIGSTOP). */
  isStopped(pid: number): boolean;
}

type CommandState =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'running';
      readonly pid: number;
      readonly terminal: Terminal | null;
      readonly exited: Promise<ExitStatus>;
      readonly settle: (status: ExitStatus) => void;
    }
  | { readonly kind: 'exited'; readonly status: ExitStatus };

export class Command {
  private state: CommandState = { kind: 'none' };
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly onExit: (status: ExitStatus) => void,
    /** Its signals, its kill timer, and its spawn. */
    private readonly edges: Pick<DaemonEdges, 'signal' | 'schedule'> & { readonly command: CommandSpawner },
  ) {}

  start(argv: readonly string[], env: Readonly<Record<string, string>>): void {
    let terminal: Terminal | null = null;
    try {
      terminal = this.edges.command.foregroundTerminal();
    } catch (err) {
      this.logger.warn({ event: 'terminal-unavailable', err }, 'cannot hand the terminal to CMD');
    }
    let result: GroupSpawnResult;
    try {
      result = this.edges.command.spawn({ file: argv[0]!, args: argv.slice(1), env, terminal });
    } catch (err) {
      result = { ok: false, error: `cannot run ${argv[0]!}: ${err instanceof Error ? err.message : String(err)}`, code: 126 };
    }
    if (!result.ok) {
      this.logger.error({ event: 'cmd-failed', error: result.error }, result.error);
      const status: ExitStatus = { kind: 'exited', code: result.code };
      this.state = { kind: 'exited', status };
      return this.onExit(status);
    }
    let settle!: (status: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((resolve) => (settle = resolve));
    this.logger.info({ event: 'cmd-started', pid: result.pid, argv: argv.join(' '), terminal: terminal !== null }, 'cmd-started');
    this.state = { kind: 'running', pid: result.pid, terminal, exited, settle };
  }

  /** The reaper reaped `pid`: true if it was CMD, whose exit is then handled. */
  reaped(pid: number, status: ExitStatus): boolean {
    const state = this.state;
    if (state.kind !== 'running' || state.pid !== pid) return false;
    this.state = { kind: 'exited', status };
    if (state.terminal !== null) {
      try {
        this.edges.command.takeBack(state.terminal, pid);
      } catch (err) {
        this.logger.warn({ event: 'terminal-unavailable', err }, 'cannot take the terminal back');
      }
    }
    this.logger.info({ event: 'cmd-exited', code: exitCodeOf(status) }, 'cmd-exited');
    state.settle(status);
    if (!this.stopping) this.onExit(status);
    return true;
  }

  /** Forwards `signal` to CMD; returns who got it ('cmd') or null when there is no CMD running. */
  forward(signal: NodeJS.Signals | number): string | null {
    return this.state.kind === 'running' && this.edges.signal(this.state.pid, signal) ? 'cmd' : null;
  }

  /** TERM, then KILL after `graceMs`; resolves with how CMD ended, or null if it never ran. */
  async stop(graceMs: number): Promise<ExitStatus | null> {
    this.stopping = true;
    const state = this.state;
    if (state.kind === 'none') return null;
    if (state.kind === 'exited') return state.status;
    this.edges.signal(state.pid, 'SIGTERM');
    // A CMD stopped by Ctrl-Z (or SIGSTOP) must wake up to die of its SIGTERM. Only then: tini
    // and dumb-init send TERM alone, and a CMD that handles both would see an extra SIGCONT.
    if (this.edges.command.isStopped(state.pid)) this.edges.signal(state.pid, 'SIGCONT');
    const cancelKill = this.edges.schedule(graceMs, () => void this.edges.signal(state.pid, 'SIGKILL'));
    const status = await state.exited;
    cancelKill();
    return status;
  }
}
