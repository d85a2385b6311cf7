/**
 * What a byte written to a service's `supervise/control` FIFO asks of warden: the same letters
 * s6-supervise obeys (s6-svc writes them), as the control commands warden already has.
 */

/** A control command, as the control socket takes it. */
export type SvCommand = { readonly cmd: 'up' | 'down' | 'once' | 'restart' } | { readonly cmd: 'signal'; readonly signal: string };

export interface SvControlAction {
  readonly command: SvCommand | null;
  /** `p` and `c` also set or clear s6's paused flag (while the program runs). */
  readonly paused: boolean | null;
  /** `D`, `U`, `Q`: make or remove the `down` file of warden's copy of the service dir (s6-svstat's "normally up"). */
  readonly downFile: 'add' | 'remove' | null;
  /** Why a letter s6-supervise knows does nothing here; null when it acts (or is not a command at all). */
  readonly refused: string | null;
}

const SIGNAL_LETTERS: Readonly<Record<string, string>> = {
  a: 'SIGALRM',
  b: 'SIGABRT',
  q: 'SIGQUIT',
  h: 'SIGHUP',
  k: 'SIGKILL',
  t: 'SIGTERM',
  i: 'SIGINT',
  '1': 'SIGUSR1',
  '2': 'SIGUSR2',
  p: 'SIGSTOP',
  c: 'SIGCONT',
  y: 'SIGWINCH',
};

const act = (command: SvCommand | null, extra: Partial<SvControlAction> = {}): SvControlAction => ({ command, paused: null, downFile: null, refused: null, ...extra });

/**
 * The action for control letter `letter`; `running`: the program runs now (s6's `O` only marks
 * a running service as not to be restarted, and starts nothing when it is down). Bytes that
 * are no command are ignored, as s6-supervise ignores them.
 */
export function svControlAction(letter: string, running: boolean): SvControlAction | null {
  const signal = SIGNAL_LETTERS[letter];
  if (signal !== undefined) {
    const paused = letter === 'p' ? true : letter === 'c' ? false : null;
    return act({ cmd: 'signal', signal }, { paused });
  }
  switch (letter) {
    case 'u':
      return act({ cmd: 'up' });
    case 'd':
      return act({ cmd: 'down' });
    case 'o':
      return act({ cmd: 'once' });
    case 'r':
      return act({ cmd: 'restart' });
    case 'U':
      return act({ cmd: 'up' }, { downFile: 'remove' });
    case 'D':
      return act({ cmd: 'down' }, { downFile: 'add' });
    case 'O':
      return act({ cmd: running ? 'once' : 'down' });
    case 'Q':
      return act({ cmd: running ? 'once' : 'down' }, { downFile: 'add' });
    case 'x':
      // s6-supervise exits once its service is down; warden supervises until the container stops.
      return act(null, { refused: 'x (end supervision): warden supervises its services until the container stops; use warden halt' });
    default:
      return null;
  }
}
