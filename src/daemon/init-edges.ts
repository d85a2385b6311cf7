/**
 * What Init does to the world beyond the Supervisor's edges: the reaper, the control socket, the
 * dir watcher, the service logs, the pipes and sockets it holds, s6-supervise's files, the
 * signals it is sent, the runtime files, the units on disk and the last sweep of the container.
 * Each is a small port here; `system-edges.ts` builds the real ones (for `cli/boot.ts`) and the
 * unit tests pass fakes, so the whole PID 1 lifecycle runs in virtual time.
 */
import type { ReaperOptions } from '../adapters/reaper.js';
import type { RequestHandler } from '../adapters/control-server.js';
import type { DirWatcherOptions } from '../adapters/dir-watcher.js';
import type { Logger } from '../adapters/logger.js';
import type { Stdio } from '../adapters/pipe-holder.js';
import type { TreeUsage } from '../adapters/proc-usage.js';
import type { ServiceLogs, ServiceLogsOptions } from '../adapters/service-logs.js';
import type { BootSettings } from '../config/boot-settings.js';
import type { LoadedUnits } from '../config/load-units.js';
import type { ServiceSpec } from '../core/service-spec.js';
import type { Pipe, UnitSet } from '../core/unit-set.js';
import type { CommandSpawner } from './command.js';
import type { DaemonEdges } from './edges.js';
import type { FixAttrsOptions } from './fix-attrs.js';
import type { HealthFilesPort } from './health-publisher.js';
import type { HeldSockets } from './held-sockets.js';
import type { MetricsContext } from './metrics.js';
import type { OverlayRuntimeOptions } from './overlay-runtime.js';
import type { S6ProtocolOptions } from './s6-supervise-protocol.js';
import type { SupervisorObserver } from './supervisor.js';

/** Reaps the children warden did not spawn through the launcher (CMD, orphans). */
export interface ReaperPort {
  /** Reaps on every SIGCHLD from now on, and what is already dead. */
  start(): void;
  /** Reaps what is dead now; returns how many. */
  drain(): number;
}

/** The control socket. */
export interface ControlPort {
  listen(): Promise<void>;
  close(): void;
}

/** Watches the service dirs; calls its `onChange` once a change settles. */
export interface WatcherPort {
  /** Resolves once watching (a change after it is seen). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Where services' output goes; `close` flushes the files and warden's own console stream. */
export type ServiceOutput = Pick<ServiceLogs, 'attach' | 'forget' | 'lineCounts' | 'close'>;

/** The pipes of s6-rc pipelines, held open across restarts. */
export interface PipesPort {
  stdioOf(name: string): Stdio;
  /** Makes and closes pipes to match `pipes`; returns what failed. */
  sync(pipes: readonly Pipe[]): string[];
  close(): void;
}

/** The listening sockets held for services. */
export type SocketsPort = Pick<HeldSockets, 'fdsOf' | 'sync' | 'closeAll'>;

/** s6-supervise's files of each longrun. */
export interface S6ProtocolPort extends SupervisorObserver {
  /** The longruns of the latest scan: each gets its `/run/service/NAME`, down until taken in. */
  known(specs: readonly ServiceSpec[]): void;
  /** The dir a service's `run`, `finish` and `check` start in. */
  workDirOf(spec: ServiceSpec): string;
  closeAll(): void;
}

/**
 * Where the signals sent to warden come from: one listener per signal, and, done once, the
 * native part (blocking in the main thread, ignoring libc's own signals, a default action back).
 */
export interface SignalSource {
  /** Calls `handler` at each delivery of signal `number` (`name`); returns why it cannot, or null. */
  listen(number: number, name: string, handler: () => void): string | null;
  /** Blocks `signals` in the main thread; throws when it cannot. */
  block(signals: readonly number[]): void;
  /** Ignores one of libc's own signals (glibc's 32); false (or a throw) when it cannot. */
  ignoreLibc(signal: number): boolean;
  /** The signal's default action again; throws when it cannot. */
  restoreDefault(signal: number): void;
}

/** The files warden writes for s6-overlay's users and the `s6-rc` shim (overlay-runtime.ts). */
export interface RuntimeFiles {
  /** The container environment, the results dir and the halt shim; resolves with the exitcode file's mtime, or null. */
  prepare(opts: OverlayRuntimeOptions): Promise<number | null>;
  /** The code a script left in the exitcode file since `stamp`, or null. */
  readExitCode(stamp: number | null): Promise<number | null>;
  writeExitCode(code: number): Promise<void>;
  /** `RUNDIR/units.json` for the `s6-rc` shim. */
  writeUnitsFile(runDir: string, set: UnitSet, logger: Logger): Promise<void>;
  /** The previous boot's environment dirs, moved aside by `prepare`. */
  removeStaleEnvDirs(dirs: readonly string[]): void;
}

/** What the last stage of shutdown is given (kill-everything.ts). */
export interface SweepOptions {
  readonly graceMs: number;
  readonly reaper: ReaperPort;
  readonly logger: Logger;
}

export interface InitEdges extends DaemonEdges {
  /** warden is its PID namespace's init (else a sub-init: a subreaper among other processes). */
  readonly pid1: boolean;
  /** The argv that runs warden again (node and its main script): the halt shim's. */
  readonly wardenArgv: readonly string[];
  /** prctl(PR_SET_CHILD_SUBREAPER); throws when it cannot. */
  readonly becomeSubreaper: () => void;
  readonly reaper: (opts: ReaperOptions) => ReaperPort;
  readonly signals: SignalSource;
  readonly controlServer: (path: string, handle: RequestHandler, onError: (err: unknown) => void) => ControlPort;
  readonly watcher: (dirs: readonly string[], opts: DirWatcherOptions) => WatcherPort;
  /** The service logs, echoing to warden's own console stream (made with them). */
  readonly serviceLogs: (opts: Omit<ServiceLogsOptions, 'consoleStream'>, onError: (service: string, err: unknown) => void) => ServiceOutput;
  readonly pipes: (dir: string) => PipesPort;
  readonly heldSockets: () => SocketsPort;
  readonly s6Protocol: (opts: S6ProtocolOptions) => S6ProtocolPort;
  /** Memory and CPU of a process tree, for `warden status`. */
  readonly usage: (pid: number) => TreeUsage | null;
  /** CMD's spawn in its own process group, and the terminal it is handed. */
  readonly command: CommandSpawner;
  /** Every unit of the container, read from its dirs (problems included). */
  readonly loadUnits: (settings: BootSettings) => Promise<LoadedUnits>;
  /** The files of cont-init.d / cont-finish.d dirs, in run order. */
  readonly listScripts: (dirs: readonly string[]) => Promise<string[]>;
  /** Applies fix-attrs.d; returns the failures. */
  readonly fixAttrs: (opts: FixAttrsOptions) => Promise<string[]>;
  readonly runtimeFiles: RuntimeFiles;
  /** S6_WAIT_FOR_CLOSING_FD: resolves at end of file on `fd`, or with why it cannot be read. */
  readonly waitForClosingFd: (fd: number) => Promise<Error | null>;
  /** TERM, then KILL, every process left in the container; resolves with how many there were. */
  readonly killEverything: (opts: SweepOptions) => Promise<number>;
  /** The health file beside the control socket `socket`, first written with `text`, and its FIFO; throws when they cannot be made. */
  readonly healthFiles: (socket: string, text: string) => HealthFilesPort;
  /** WARDEN_METRICS_ADDR's server. */
  readonly startMetrics: (ctx: MetricsContext) => Promise<{ close(): void }>;
}
