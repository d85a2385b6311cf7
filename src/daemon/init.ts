/**
 * The PID 1 lifecycle: become the reaper, run cont-init.d, start the services in dependency
 * order, start CMD, and on the first reason to stop, shut everything down within one deadline
 * and return the exit code. Nothing here throws out: PID 1 must never die of its own error.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock } from '../adapters/clock.js';
import { consoleStream } from '../adapters/console-stream.js';
import { ControlServer } from '../adapters/control-server.js';
import { DirWatcher } from '../adapters/dir-watcher.js';
import { Launcher } from '../adapters/launcher.js';
import type { Logger } from '../adapters/logger.js';
import { setChildSubreaper } from '../adapters/native.js';
import { Reaper } from '../adapters/reaper.js';
import { notifyDir } from '../adapters/notify-socket.js';
import { ServiceLogs } from '../adapters/service-logs.js';
import type { BootSettings } from '../config/boot-settings.js';
import { formatProblem } from '../config/config-problem.js';
import { problem } from '../config/config-problem.js';
import { loadServiceDirs } from '../config/load-services.js';
import { loadS6RcSource, type OneshotSpec } from '../config/s6-rc-source.js';
import { exitCodeOf, type ExitStatus } from '../core/exit-status.js';
import type { ServiceSpec } from '../core/service-spec.js';
import { Command } from './command.js';
import { controlHandler } from './control-handler.js';
import { killEverything } from './kill-everything.js';
import { runOneshot } from './oneshot-runner.js';
import { envDirs, prepareOverlayRuntime, readExitCodeFile, removeStaleEnvDirs, S6_EXITCODE_FILE, writeExitCodeFile } from './overlay-runtime.js';
import { ServiceSet, type LoadedUnits } from './service-set.js';
import { listScripts, runScripts } from './stage-scripts.js';
import { Supervisor } from './supervisor.js';

/** Why the container stops; it decides the exit code. */
export type StopReason =
  | { readonly kind: 'signal'; readonly signal: string }
  | { readonly kind: 'command-exited'; readonly status: ExitStatus }
  | { readonly kind: 'halt'; readonly code: number; readonly by: string }
  | { readonly kind: 'boot-failed'; readonly message: string };

/** Exit code when warden itself cannot start (s6's convention for a failed system call). */
export const EXIT_CANNOT_START = 111;

/** Quiet time after the last change in a service dir before it is applied (well under 1 s in all). */
const WATCH_SETTLE_MS = 250;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
const FORWARDED_SIGNALS = ['SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

export class Init {
  private readonly launcher = new Launcher();
  private readonly supervisor: Supervisor;
  private readonly services: ServiceSet;
  private readonly reaper: Reaper;
  private readonly command: Command;
  private readonly control: ControlServer;
  private readonly watcher: DirWatcher;
  private readonly watchedDirs: readonly string[];
  private readonly logs: ServiceLogs;
  private readonly console = consoleStream();
  private stopping: Promise<number> | null = null;
  private resolveExit!: (code: number) => void;
  private readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));

  constructor(
    private readonly settings: BootSettings,
    private readonly logger: Logger,
  ) {
    this.logs = new ServiceLogs(
      {
        dir: settings.logDir,
        console: settings.consoleFormat,
        consoleStream: this.console,
        defaultMaxBytes: settings.serviceDefaults.logMaxBytes,
        defaultKeep: settings.serviceDefaults.logKeep,
      },
      (service, err) => logger.warn({ event: 'log-failed', service, err }, 'log-failed'),
    );
    this.supervisor = new Supervisor({
      clock: systemClock,
      launcher: this.launcher,
      logs: this.logs,
      logger,
      notifyDir: notifyDir(settings.runDir),
      baseEnv: currentEnv(),
      onHalt: (code, by) => void this.stop({ kind: 'halt', code, by }),
    });
    this.services = new ServiceSet(
      this.supervisor,
      logger,
      () => this.loadServices(),
      (spec) => stopBudgetMs(spec, settings.servicesGraceMs),
      (spec, phase) =>
        runOneshot(spec, phase, { launcher: this.launcher, logger, env: currentEnv, execlineb: settings.execlineb, downCapMs: settings.servicesGraceMs }),
      (name, reason) => this.stage2Failed(`oneshot ${name} failed: ${reason}`),
    );
    this.reaper = new Reaper({
      isManaged: this.launcher.isManaged,
      onOrphanReaped: (pid, status) => logger.debug({ event: 'reaped', pid, ...status }, 'reaped'),
      onError: (err) => logger.error({ event: 'reap-failed', err }, 'reap-failed'),
    });
    this.command = new Command(this.launcher, logger, (status) => void this.stop({ kind: 'command-exited', status }));
    const handler = controlHandler({
      supervisor: this.supervisor,
      clock: systemClock,
      waiting: () => this.services.waiting(),
      halt: (code) => void this.stop({ kind: 'halt', code, by: 'warden halt' }),
      reload: () => this.services.rescan(),
      stopping: () => this.stopping !== null,
    });
    // Only dirs that exist (they come with the image): chokidar watching a path that is not
    // there watches its parents instead (all of /etc), which makes rescans from unrelated changes.
    this.watchedDirs = [...settings.serviceDirs, ...settings.s6RcDirs].filter((d) => existsSync(d));
    this.watcher = new DirWatcher(this.watchedDirs, {
      settleMs: WATCH_SETTLE_MS,
      onChange: () => void this.services.rescan(),
      onError: (err) => logger.warn({ event: 'watch-error', err }, 'watch-error'),
    });
    this.control = new ControlServer(settings.socketPath, handler, (err) =>
      logger.error({ event: 'control-error', err }, 'control-error'),
    );
  }

  /** Runs the container until it stops; resolves with the exit code. */
  async run(): Promise<number> {
    this.handleSignals();
    this.boot().catch((err: unknown) => this.stop({ kind: 'boot-failed', message: String(err) }));
    return this.exited;
  }

  private becomeReaper(): void {
    if (process.pid !== 1) {
      try {
        setChildSubreaper();
      } catch (err) {
        this.logger.warn({ event: 'subreaper-failed', err }, 'not PID 1 and cannot become a subreaper: orphans escape');
      }
    }
    this.reaper.start();
  }

  private handleSignals(): void {
    for (const signal of STOP_SIGNALS) process.on(signal, () => void this.stop({ kind: 'signal', signal }));
    process.on('SIGHUP', () => {
      this.logger.info({ event: 'signal', signal: 'SIGHUP' }, 'rescan');
      void this.services.rescan();
    });
    for (const signal of FORWARDED_SIGNALS) {
      process.on(signal, () => {
        const to = this.command.forward(signal);
        this.logger.info({ event: 'signal', signal, forwardedTo: to }, 'signal');
      });
    }
  }

  private async boot(): Promise<void> {
    const { settings, logger } = this;
    logger.info({ event: 'boot', pid1: process.pid === 1, serviceDirs: settings.serviceDirs, s6RcDirs: settings.s6RcDirs }, 'boot');
    for (const n of settings.overlayNotes) {
      logger.info({ event: n.honoured ? 's6-setting' : 's6-setting-ignored', variable: n.variable, value: n.value }, `${n.variable}=${n.value}: ${n.message}`);
    }
    // The runtime files are written on the threadpool while this thread becomes the reaper and
    // opens the control socket; all three are done before the first script or service starts.
    const runtime = prepareOverlayRuntime({
      logger,
      env: currentEnv(),
      runDir: settings.runDir,
      s6Runtime: settings.s6Runtime,
      wardenArgv: [process.execPath, ...process.argv.slice(1, 2)],
      socketPath: settings.socketPath,
    });
    this.becomeReaper();
    // A missing control socket costs the CLI, not the services: warn and go on.
    await this.control.listen().catch((err: unknown) =>
      logger.warn({ event: 'control-unavailable', socket: settings.socketPath, err }, 'control-unavailable'),
    );
    await runtime;
    const failures = await runScripts(await listScripts(settings.contInitDirs), {
      launcher: this.launcher,
      logger,
      env: currentEnv(),
      stage: 'cont-init',
      timeoutMs: 0,
      stopOnFailure: settings.stage2Failure === 'stop',
    });
    for (const f of failures) this.stage2Failed(f.reason);
    if (this.stopping) return;

    await this.services.rescan();
    // The previous boot's environment dirs go now that the services run, not before them.
    removeStaleEnvDirs(envDirs(settings.runDir, settings.s6Runtime));
    // Watching starts after the first services do; one more rescan once it is on catches any
    // change made in between (it touches nothing when nothing changed).
    void this.watcher
      .start()
      .then(() => this.services.rescan())
      .then(() => logger.info({ event: 'watching', dirs: this.watchedDirs.join(',') }, 'watching'))
      .catch((err: unknown) => logger.warn({ event: 'watch-unavailable', err }, 'watch-unavailable'));
    if (settings.command.length > 0) {
      const ready = await this.services.whenAllReady(settings.cmdWaitMs);
      if (!ready) logger.warn({ event: 'cmd-wait-timeout', afterMs: settings.cmdWaitMs }, 'starting CMD before every service is ready');
      if (this.stopping) return;
      this.command.start(settings.command, currentEnv());
    }
  }

  /**
   * A cont-init.d script or a oneshot failed: S6_BEHAVIOUR_IF_STAGE2_FAILS decides (warden's
   * default: stop, exit 111). The failure itself is logged where it happened.
   */
  private stage2Failed(reason: string): void {
    switch (this.settings.stage2Failure) {
      case 'stop':
        void this.stop({ kind: 'boot-failed', message: reason });
        return;
      case 'continue':
        this.logger.warn({ event: 'boot-continues', reason }, 'continuing after a failed boot step (S6_BEHAVIOUR_IF_STAGE2_FAILS=1)');
        return;
      case 'continue-silently':
        return;
    }
  }

  private async loadServices(): Promise<LoadedUnits> {
    const { settings, logger } = this;
    const loaded = await loadServiceDirs(settings.serviceDirs, settings.serviceDefaults);
    const problems = [...loaded.problems];
    let services: ServiceSpec[] = [...loaded.services];
    const oneshots: OneshotSpec[] = [];
    const names = new Map(services.map((s) => [s.name, s.dir]));
    for (const dir of settings.s6RcDirs) {
      const source = await loadS6RcSource(dir, settings.serviceDefaults);
      problems.push(...source.problems);
      for (const note of source.notes) this.noteOnce(note);
      for (const unit of [...source.longruns, ...source.oneshots]) {
        const first = names.get(unit.name);
        if (first !== undefined) {
          problems.push(problem(unit.dir, `service "${unit.name}" is already defined by ${first}; that one is used and this one is ignored`));
          continue;
        }
        names.set(unit.name, unit.dir);
        if ('run' in unit) services.push(unit);
        else oneshots.push(unit);
      }
      if (source.legacyAfter !== null) services = services.map(withLegacyOrder(source.legacyAfter));
    }
    for (const p of problems) logger.error({ event: 'config-problem', file: p.file, line: p.line }, formatProblem(p));
    return { services, oneshots };
  }

  private readonly noted = new Set<string>();

  /** Logs a note about the s6-rc sources once, not at every rescan. */
  private noteOnce(note: string): void {
    if (this.noted.has(note)) return;
    this.noted.add(note);
    this.logger.info({ event: 's6-rc-note' }, note);
  }

  /** The first call decides the reason; later calls wait for the same shutdown. */
  stop(reason: StopReason): Promise<number> {
    if (this.stopping) {
      this.logger.info({ event: 'already-stopping', reason: reason.kind }, 'already-stopping');
      return this.stopping;
    }
    this.stopping = this.shutdown(reason).then(
      (code) => code,
      (err: unknown) => {
        this.logger.error({ event: 'shutdown-failed', err }, 'shutdown-failed');
        return EXIT_CANNOT_START;
      },
    );
    void this.stopping.then(this.resolveExit);
    return this.stopping;
  }

  private async shutdown(reason: StopReason): Promise<number> {
    const { settings, logger } = this;
    logger.info({ event: 'shutdown', reason: reason.kind, ...reasonFields(reason) }, 'shutdown');

    // As s6-overlay's rc.init does: CMD's code goes to the exitcode file, where cont-finish.d
    // scripts can read it, or write another.
    if (settings.s6Runtime && reason.kind === 'command-exited') await writeExitCodeFile(exitCodeOf(reason.status));
    const commandStatus = await this.command.stop(settings.servicesGraceMs);
    await this.services.stopAll();
    // No service runs any more: end the notify wait (a blocked threadpool thread) and any check.
    this.supervisor.close();
    await runScripts(await listScripts(settings.contFinishDirs), {
      launcher: this.launcher,
      logger,
      env: currentEnv(),
      stage: 'cont-finish',
      timeoutMs: settings.contFinishMaxMs,
      stopOnFailure: false,
    });
    this.control.close();
    await this.watcher.close();
    const left = await killEverything({ graceMs: settings.killGraceMs, reaper: this.reaper, logger });
    // The last lines reach the files and stdout; a dead disk or reader must not hold PID 1 past its deadline.
    await Promise.race([this.logs.close().then(() => flush(this.console)), delay(settings.killGraceMs)]);
    if (settings.syncDisks) await this.sync();
    let code = exitCode(reason, commandStatus);
    // A script that wrote /run/s6-linux-init-container-results/exitcode chose the code (s6-overlay).
    const written = settings.s6Runtime && reason.kind !== 'boot-failed' ? await readExitCodeFile() : null;
    if (written !== null && written !== code) {
      logger.info({ event: 'exit-code-file', file: S6_EXITCODE_FILE, code: written, instead: code }, 'exit code from the exitcode file');
      code = written;
    }
    logger.info({ event: 'exit', code, killed: left }, 'exit');
    return code;
  }

  /** S6_SYNC_DISKS: flush the filesystems, bounded by the kill grace time. */
  private sync(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.settings.killGraceMs);
      const launched = this.launcher.launch({ file: 'sync', env: currentEnv(), detached: false, onExit: () => (clearTimeout(timer), resolve()) });
      if (!launched.ok) {
        this.logger.warn({ event: 'sync-failed', error: launched.error }, 'sync-failed');
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

/** A legacy services.d service waits for what `user` brings up, as under s6-overlay. */
function withLegacyOrder(after: { readonly dir: string; readonly names: readonly string[] }): (spec: ServiceSpec) => ServiceSpec {
  return (spec) =>
    dirname(spec.dir) === after.dir && after.names.length > 0
      ? { ...spec, dependencies: [...new Set([...spec.dependencies, ...after.names])].sort() }
      : spec;
}

/** Time a service may take to stop: its kill timeout (or the grace time), its finish, and a margin. */
function stopBudgetMs(spec: ServiceSpec, graceMs: number): number {
  return (spec.timeoutKillMs || graceMs) + (spec.finish ? spec.timeoutFinishMs : 0) + 1000;
}

function exitCode(reason: StopReason, commandStatus: ExitStatus | null): number {
  switch (reason.kind) {
    case 'command-exited':
      return exitCodeOf(reason.status);
    case 'halt':
      return reason.code;
    case 'boot-failed':
      return EXIT_CANNOT_START;
    case 'signal':
      return commandStatus ? exitCodeOf(commandStatus) : 0;
  }
}

function reasonFields(reason: StopReason): Record<string, string | number> {
  switch (reason.kind) {
    case 'signal':
      return { signal: reason.signal };
    case 'command-exited':
      return { code: exitCodeOf(reason.status) };
    case 'halt':
      return { code: reason.code, by: reason.by };
    case 'boot-failed':
      return { error: reason.message };
  }
}

function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function currentEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}
