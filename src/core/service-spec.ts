/** What a service is, once its directory has been read and validated: every default applied. */

export type RestartPolicy = 'always' | 'on-failure' | 'never';
export type OnExit = 'restart' | 'halt';
/** Who may report to a service's NOTIFY_SOCKET: its run's main process, or that and its descendants. */
export type NotifyAccess = 'main' | 'all';

export interface RestartDelay {
  /** Delay before the first restart in a run of quick deaths (ms). */
  readonly minMs: number;
  /** Ceiling of the exponential backoff (ms). */
  readonly maxMs: number;
}

/** The `check` probe: readiness (when nothing else reports it) and liveness. */
export interface CheckSpec {
  /** Absolute path of the executable `check` file. */
  readonly file: string;
  /** ms from the end of one run to the start of the next (`check-interval`, default 5000). */
  readonly intervalMs: number;
  /** ms a run may take before it is killed and counts as failed; 0 = no limit (`check-timeout`, default 2000). */
  readonly timeoutMs: number;
  /** Failed runs in a row, once ready, that restart the service (`check-retries`, default 3). */
  readonly retries: number;
}

export interface ServiceSpec {
  readonly name: string;
  /** Absolute path of the service directory; `run` and `finish` start with it as cwd. */
  readonly dir: string;
  /** Absolute path of the executable `run` file. */
  readonly run: string;
  /** Absolute path of the executable `finish` file, or null when there is none. */
  readonly finish: string | null;
  /**
   * The `#!` interpreter (and its argument) that runs `run`, for an s6-rc source's run without
   * the execute bit; empty when `run` is executed itself. Likewise `finishVia` for `finish`.
   */
  readonly runVia: readonly string[];
  readonly finishVia: readonly string[];
  /** A `down` file is present: not started at boot. */
  readonly downAtBoot: boolean;
  /** fd the program writes a newline to when ready (s6 `notification-fd`), or null. */
  readonly notificationFd: number | null;
  /** ms after the down signal before SIGKILL; 0 = never (s6 `timeout-kill`, else the global grace time). */
  readonly timeoutKillMs: number;
  /** ms `finish` may run before it is killed (s6 `timeout-finish`, default 5000). */
  readonly timeoutFinishMs: number;
  /** Signal name that stops it, e.g. `SIGTERM` (s6 `down-signal`). */
  readonly downSignal: string;
  /** How many deaths are remembered (s6 `max-death-tally`, default 100). */
  readonly maxDeathTally: number;
  /** From `env/` (s6-envdir rules): a value sets the variable, null removes it. */
  readonly env: Readonly<Record<string, string | null>>;
  readonly restart: RestartPolicy;
  readonly restartDelay: RestartDelay;
  /** A run at least this long (ms) counts as healthy: the next death restarts at once. */
  readonly restartResetMs: number;
  readonly onExit: OnExit;
  /** Names of services that must be up (and ready) before this one starts. */
  readonly dependencies: readonly string[];
  /** Log rotation of its captured output: `log-max-bytes` per file, `log-keep` archives. */
  readonly logLimits: { readonly maxBytes: number; readonly keep: number };
  /** Identifies the `run`, `finish` and `check` scripts (config/script-fingerprint): an edited script is a changed service. */
  readonly scriptsFingerprint: string;
  /** A `notify-socket` file is present: the service gets NOTIFY_SOCKET and reports `READY=1` (sd_notify). */
  readonly notifySocket: boolean;
  /** What the `notify-socket` file says: who may report (checked on each datagram's credentials). */
  readonly notifyAccess: NotifyAccess;
  /** The `check` probe, or null when the dir has no `check` file. */
  readonly check: CheckSpec | null;
  /** `user`: who run, finish and check run as; null: as warden (root). */
  readonly user: RunAs | null;
  /** `forward-signals`: the signals PID 1 forwards that this service gets too (numbers, sorted); empty: none. */
  readonly forwardSignals: readonly number[];
  /** `listen`: sockets warden binds once and hands to every run as fds 3, 4 … (systemd's LISTEN_FDS); empty: none. */
  readonly listen: readonly ListenSpec[];
}

/** One line of a `listen` file: a stream socket to bind and listen on. */
export type ListenSpec =
  | { readonly family: 'tcp' | 'tcp6'; readonly host: string; readonly port: number; readonly backlog: number; readonly line: number }
  | { readonly family: 'unix'; readonly path: string; readonly backlog: number; readonly line: number };

/** A uid and gid to run as, and the `user` file's text for messages. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly label: string;
}

/** How services' output is copied to warden's own console: prefixed lines, JSON records, or not at all. */
export type ConsoleFormat = 'prefix' | 'json' | 'none';
