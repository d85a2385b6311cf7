/**
 * The controlling terminal's foreground process group, as tini hands it to CMD: only the
 * foreground group gets the terminal's signals (Ctrl-C, Ctrl-Z, Ctrl-\) and may read it.
 */
import { isatty } from 'node:tty';
import { libcCalls } from './koffi-lazy.js';
import { withBlocked } from './signal-native.js';

const SIGTTIN = 21;
const SIGTTOU = 22;

type Calls = {
  tcgetpgrp: (fd: number) => number;
  tcsetpgrp: (fd: number, pgrp: number) => number;
  getpgrp: () => number;
};

const load = libcCalls(
  (lib): Calls => ({
    tcgetpgrp: lib.func('int tcgetpgrp(int fd)') as Calls['tcgetpgrp'],
    tcsetpgrp: lib.func('int tcsetpgrp(int fd, int pgrp)') as Calls['tcsetpgrp'],
    getpgrp: lib.func('int getpgrp(void)') as Calls['getpgrp'],
  }),
);

/** The terminal warden may hand to CMD: stdin, when it is a terminal whose foreground group is warden's own. */
export interface Terminal {
  readonly fd: number;
  /** warden's process group, the one to give the terminal back to. */
  readonly ownGroup: number;
}

/**
 * stdin's terminal, if warden is in its foreground: a warden started in the background of a
 * shell must not steal the terminal from the shell's foreground job.
 */
export function foregroundTerminal(): Terminal | null {
  if (!isatty(0)) return null;
  const c = load();
  const own = c.getpgrp();
  return c.tcgetpgrp(0) === own ? { fd: 0, ownGroup: own } : null;
}

/**
 * Makes `group` the terminal's foreground group; false if the terminal refused (it went away).
 * SIGTTOU is blocked meanwhile: a background group that sets the foreground would get it.
 */
export function setForeground(terminal: Terminal, group: number): boolean {
  return withBlocked([SIGTTIN, SIGTTOU], () => load().tcsetpgrp(terminal.fd, group) === 0);
}

/** Gives the terminal back to warden's own group, if `group` still holds it. */
export function takeBack(terminal: Terminal, group: number): void {
  const c = load();
  if (c.tcgetpgrp(terminal.fd) === group) setForeground(terminal, terminal.ownGroup);
}
