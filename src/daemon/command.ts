/** CMD, the container's main program: started after the services, its exit ends the container. */
import type { Launcher } from '../adapters/launcher.js';
import type { Logger } from '../adapters/logger.js';
import { sendSignal } from '../adapters/signals.js';
import { exitCodeOf, type ExitStatus } from '../core/exit-status.js';

/** The shell's code for a command that cannot be found or run. */
const EXIT_CANNOT_RUN = 127;

type CommandState =
  | { readonly kind: 'none' }
  | { readonly kind: 'running'; readonly pid: number; readonly exited: Promise<ExitStatus> }
  | { readonly kind: 'exited'; readonly status: ExitStatus };

export class Command {
  private state: CommandState = { kind: 'none' };
  private stopping = false;

  constructor(
    private readonly launcher: Launcher,
    private readonly logger: Logger,
    private readonly onExit: (status: ExitStatus) => void,
  ) {}

  start(argv: readonly string[], env: Readonly<Record<string, string>>): void {
    let settle!: (status: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((resolve) => (settle = resolve));
    const result = this.launcher.launch({
      file: argv[0]!,
      args: argv.slice(1),
      env,
      // CMD stays in warden's process group and keeps the terminal, as under tini.
      detached: false,
      stdin: 'inherit',
      onExit: (status) => {
        this.state = { kind: 'exited', status };
        this.logger.info({ event: 'cmd-exited', code: exitCodeOf(status) }, 'cmd-exited');
        settle(status);
        if (!this.stopping) this.onExit(status);
      },
    });
    if (!result.ok) {
      this.logger.error({ event: 'cmd-failed', error: result.error }, result.error);
      const status: ExitStatus = { kind: 'exited', code: EXIT_CANNOT_RUN };
      this.state = { kind: 'exited', status };
      return this.onExit(status);
    }
    this.logger.info({ event: 'cmd-started', pid: result.pid, argv: argv.join(' ') }, 'cmd-started');
    this.state = { kind: 'running', pid: result.pid, exited };
  }

  /** Forwards `signal` to CMD; returns who got it ('cmd') or null when there is no CMD running. */
  forward(signal: NodeJS.Signals): string | null {
    return this.state.kind === 'running' && sendSignal(this.state.pid, signal) ? 'cmd' : null;
  }

  /** TERM, then KILL after `graceMs`; resolves with how CMD ended, or null if it never ran. */
  async stop(graceMs: number): Promise<ExitStatus | null> {
    this.stopping = true;
    const state = this.state;
    if (state.kind === 'none') return null;
    if (state.kind === 'exited') return state.status;
    sendSignal(state.pid, 'SIGTERM');
    const timer = setTimeout(() => sendSignal(state.pid, 'SIGKILL'), graceMs);
    const status = await state.exited;
    clearTimeout(timer);
    return status;
  }
}
