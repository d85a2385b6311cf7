/**
 * Every signal Linux can deliver, and what warden does with it, as PID 1 and as a sub-init.
 * This table is the one place that decides it: the daemon installs its handlers from it, and
 * docs/pid1.md prints it (a unit test checks that the two agree).
 *
 * Numbers are Linux's generic ones (x86-64 and arm64 share them). Signals 32 and 33 belong to
 * glibc (thread cancellation and set*id broadcast); 34 to 64 are the real-time signals.
 */

/** What warden does when it receives a signal. */
export type SignalRole =
  /** Graceful shutdown; the exit code is CMD's (or 0 without CMD). */
  | 'stop'
  /** Graceful shutdown with exit code 0, whatever CMD does (LXC, systemd and s6-linux-init's power-off). */
  | 'power-off'
  /** The `WARDEN_HUP` setting: forward (default when there is a CMD) or rescan the service dirs. */
  | 'hup'
  /** Forwarded to CMD and to the services that asked (`forward-signals`). */
  | 'forward'
  /** Forwarded like `forward`; warden itself never stops (its services must keep running). */
  | 'job-control'
  /**
   * A fault signal: sent with `kill`, it is forwarded like `forward`, however many come. It is
   * blocked in warden's main thread, so a real fault there still ends warden with a core dump
   * instead of a handler that returns to the faulting instruction forever (daemon/signal-router).
   */
  | 'fault'
  /** A child died: reap. Never forwarded (CMD's own children are its business). */
  | 'reap'
  /** SIGKILL and SIGSTOP: no process can catch them. */
  | 'uncatchable'
  /** The C library's own (32: cancellation): it refuses a handler; warden ignores it. */
  | 'libc-ignored'
  /** The C library's own (33: set*id broadcast): glibc's handler takes it and drops it. */
  | 'libc-handled';

export interface SignalEntry {
  readonly number: number;
  /** `SIGTERM`, or `SIGRTMIN+n` for a real-time signal, or `32` for one without a name. */
  readonly name: string;
  readonly role: SignalRole;
}

const NAMED: readonly (readonly [number, string, SignalRole])[] = [
  [1, 'SIGHUP', 'hup'],
  [2, 'SIGINT', 'stop'],
  [3, 'SIGQUIT', 'stop'],
  [4, 'SIGILL', 'fault'],
  [5, 'SIGTRAP', 'fault'],
  [6, 'SIGABRT', 'fault'],
  [7, 'SIGBUS', 'fault'],
  [8, 'SIGFPE', 'fault'],
  [9, 'SIGKILL', 'uncatchable'],
  [10, 'SIGUSR1', 'forward'],
  [11, 'SIGSEGV', 'fault'],
  [12, 'SIGUSR2', 'forward'],
  [13, 'SIGPIPE', 'forward'],
  [14, 'SIGALRM', 'forward'],
  [15, 'SIGTERM', 'stop'],
  [16, 'SIGSTKFLT', 'forward'],
  [17, 'SIGCHLD', 'reap'],
  [18, 'SIGCONT', 'forward'],
  [19, 'SIGSTOP', 'uncatchable'],
  [20, 'SIGTSTP', 'job-control'],
  [21, 'SIGTTIN', 'job-control'],
  [22, 'SIGTTOU', 'job-control'],
  [23, 'SIGURG', 'forward'],
  [24, 'SIGXCPU', 'forward'],
  [25, 'SIGXFSZ', 'forward'],
  [26, 'SIGVTALRM', 'forward'],
  [27, 'SIGPROF', 'forward'],
  [28, 'SIGWINCH', 'forward'],
  [29, 'SIGIO', 'forward'],
  [30, 'SIGPWR', 'power-off'],
  [31, 'SIGSYS', 'fault'],
  [32, '32', 'libc-ignored'],
  [33, '33', 'libc-handled'],
];

/** glibc's SIGRTMIN; musl keeps 34 for itself too, which the daemon then finds it cannot catch. */
export const FIRST_REALTIME = 34;
/** The highest signal number Linux has (`SIGRTMAX`). */
export const LAST_SIGNAL = 64;

function realtimeName(n: number): string {
  const fromMin = n - FIRST_REALTIME;
  const fromMax = LAST_SIGNAL - n;
  // As kill -l names them: the nearer end of the range.
  return fromMin <= fromMax ? (fromMin === 0 ? 'SIGRTMIN' : `SIGRTMIN+${fromMin}`) : fromMax === 0 ? 'SIGRTMAX' : `SIGRTMAX-${fromMax}`;
}

/** Signals 1 to 64 in order, each with what warden does with it. */
export const SIGNAL_TABLE: readonly SignalEntry[] = [
  ...NAMED.map(([number, name, role]) => ({ number, name, role })),
  ...Array.from({ length: LAST_SIGNAL - FIRST_REALTIME + 1 }, (_, i) => ({
    number: FIRST_REALTIME + i,
    name: realtimeName(FIRST_REALTIME + i),
    role: 'forward' as const,
  })),
];

const same = (text: string): RoleText => ({ pid1: text, subInit: text });

export interface RoleText {
  readonly pid1: string;
  readonly subInit: string;
}

/** What a role means, for PID 1 and for a sub-init: docs/pid1.md's table (see docsRow). */
export const ROLE_TEXT: Readonly<Record<SignalRole, RoleText>> = {
  stop: same("graceful shutdown; exit code: CMD's, else 0"),
  'power-off': same('graceful shutdown, exit code 0'),
  hup: same('`WARDEN_HUP`: forwarded (default with a CMD) or rescan (default without)'),
  forward: same('forwarded to CMD and to services with `forward-signals`'),
  'job-control': same('forwarded to CMD and to services with `forward-signals`; warden keeps running'),
  fault: {
    pid1: 'sent with kill: forwarded once CMD runs (before, the kernel drops it); a real fault in warden still crashes it',
    subInit: 'sent with kill: forwarded; a real fault in warden still crashes it',
  },
  reap: same('reap the dead child; not forwarded'),
  uncatchable: {
    pid1: 'cannot be caught; the kernel drops it when sent from inside the container',
    subInit: 'cannot be caught: stops or kills warden (CMD is left running)',
  },
  'libc-ignored': same("the C library's own (it refuses a handler); ignored"),
  'libc-handled': same("the C library's own; its handler drops a signal it did not send"),
};

/** The row of docs/pid1.md's table for `entry`; the real-time signals share one row, at 34. */
export function docsRow(entry: SignalEntry): string | null {
  if (entry.number > FIRST_REALTIME) return null;
  const text = ROLE_TEXT[entry.role];
  const realtime = entry.number === FIRST_REALTIME;
  const number = realtime ? `${FIRST_REALTIME}–${LAST_SIGNAL}` : String(entry.number);
  const name = realtime ? 'RTMIN … RTMAX' : entry.name.startsWith('SIG') ? entry.name.slice(3) : '—';
  return `| ${number} | ${name} | ${text.pid1} | ${text.subInit === text.pid1 ? 'same' : text.subInit} |`;
}

/** Roles whose signals warden passes on. */
export function isForwarded(role: SignalRole): boolean {
  return role === 'forward' || role === 'job-control' || role === 'fault';
}
