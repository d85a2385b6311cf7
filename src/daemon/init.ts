/**
 * The PID 1 lifecycle: become the reaper, run cont-init.d, start the services in dependency
 * order, start CMD, and on the first reason to stop, shut everything down within one deadline
 * and return the exit code. Nothing here throws out: PID 1 must never die of its own error.
 */
import { join } from 'node:path';
import type { RequestHandler } from '../adapters/control-server.js';
import type { Logger } from '../adapters/logger.js';
import { notifyDir } from '../adapters/notify-socket.js';
import type { BootSettings } from '../config/boot-settings.js';
import { formatProblem, problem, problemsUnder } from '../config/config-problem.js';
import type { OneshotSpec } from '../config/s6-rc-source.js';
import { exitCodeOf, type ExitStatus } from '../core/exit-status.js';
import type { ServiceSpec } from '../core/service-spec.js';
import { withoutAtoms } from '../core/unit-machine.js';
import { Command } from './command.js';
import type { OneshotOutcome } from './oneshot-runner.js';
import { allNames, controlHandler, statusesOf } from './control-handler.js';
import { HealthPublisher } from './health-publisher.js';
import { runOneshot } from './oneshot-runner.js';
import { envDirs, S6_EXITCODE_FILE, S6_SERVICE_DIR } from './overlay-runtime.js';
import { UsageSampler } from './usage-sampler.js';
import { ServiceSet, type LoadedUnits } from './service-set.js';
import { runScripts } from './stage-scripts.js';
import { Supervisor } from './supervisor.js';
import { armNativeSignals, routeSignals, type SignalRoutes } from './signal-router.js';
import { EXIT_CANNOT_START } from '../protocol/exit-codes.js';
import { signalNumber } from '../protocol/signal-name.js';
import type { ControlPort, InitEdges, PipesPort, ReaperPort, S6ProtocolPort, ServiceOutput, SocketsPort, WatcherPort } from './init-edges.js';

// boot builds the edges it hands to Init: the daemon's one door for cli.
export { systemInitEdges } from './system-edges.js';
export type { InitEdges } from './init-edges.js';

/** Why the container stops; it decides the exit code. */
export type StopReason =
  | { readonly kind: 'signal'; readonly signal: string }
  | { readonly kind: 'command-exited'; readonly status: ExitStatus }
  | { readonly kind: 'halt'; readonly code: number; readonly by: string }
  | { readonly kind: 'boot-failed'; readonly message: string };

/** The signals S6_CMD_RECEIVE_SIGNALS sends to CMD instead of PID 1 (s6-overlay's list). */
const DIVERTED_SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'SIGQUIT', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGPWR', 'SIGWINCH']);

/** Quiet time after the last change in a service dir before it is applied (well under 1 s in all). */
const WATCH_SETTLE_MS = 250;


/**
 * Where the container is in its life: booting (units, then CMD), up, or stopping for the first
 * reason that came, with the exit code to come.
 */
type Lifecycle =
  | { readonly kind: 'booting' }
  | { readonly kind: 'up' }
  | { readonly kind: 'stopping'; readonly reason: StopReason; readonly exit: Promise<number> };

export class Init {
  private readonly supervisor: Supervisor;
  private readonly services: ServiceSet;
  private readonly sockets: SocketsPort;
  private closeMetrics: () => void = () => undefined;
  private readonly reaper: ReaperPort;
  private readonly command: Command;
  private readonly control: ControlPort;
  /** The health file beside the socket, which `warden health` reads (health-publisher.ts). */
  private readonly health: HealthPublisher;
  private readonly watcher: WatcherPort;
  private readonly watchedDirs: readonly string[];
  private readonly logs: ServiceOutput;
  private readonly signalRoutes: SignalRoutes;
  private readonly pipes: PipesPort;
  private readonly s6Protocol: S6ProtocolPort;
  private life: Lifecycle = { kind: 'booting' };
  /** mtime of the exitcode file as boot wrote it (s6-overlay's 0). */
  private exitcodeStamp: number | null = null;
  private resolveExit!: (code: number) => void;
  private readonly exited = new Promise<number>((resolve) => (this.resolveExit = resolve));

  constructor(
    private readonly settings: BootSettings,
    private readonly logger: Logger,
    /** Everything it does to the world: the Supervisor's edges and its own ports (init-edges.ts). */
    private readonly edges: InitEdges,
  ) {
    this.sockets = edges.heldSockets();
    this.pipes = edges.pipes(join(settings.runDir, 'pipes'));
    this.logs = edges.serviceLogs(
      {
        dir: settings.logDir,
        console: settings.consoleFormat,
        defaultMaxBytes: settings.serviceDefaults.logMaxBytes,
        defaultKeep: settings.serviceDefaults.logKeep,
      },
      (service, err) => logger.warn({ event: 'log-failed', service, err }, 'log-failed'),
    );
    // The control FIFOs take the control socket's path: the handler is made below, from the supervisor.
    let handle: RequestHandler = () => Promise.resolve({ ok: false, error: { code: 'internal', message: 'warden is starting' } });
    this.s6Protocol = edges.s6Protocol({
      base: settings.s6Runtime ? S6_SERVICE_DIR : join(settings.runDir, 'service'),
      logger,
      wallClock: edges.wallClock,
      // A FIFO's writer never waits for an answer: nothing to cancel.
      request: (request) => handle(request, new AbortController().signal),
    });
    this.supervisor = new Supervisor({
      edges,
      logs: this.logs,
      logger,
      notifyDir: notifyDir(settings.runDir),
      stdioOf: (name) => this.pipes.stdioOf(name),
      heldFds: (name) => this.sockets.fdsOf(name),
      onHalt: (code, by) => void this.stop({ kind: 'halt', code, by }),
      observer: this.s6Protocol,
      workDirOf: (spec) => this.s6Protocol.workDirOf(spec),
    });
    this.services = new ServiceSet({
      edges,
      supervisor: this.supervisor,
      logger,
      load: () => this.loadServices(),
      stopBudgetMs: (spec) => stopBudgetMs(spec, settings.servicesGraceMs),
      runOneshot: (spec, phase) => this.runUnit(spec, phase),
    });
    this.reaper = edges.reaper({
      isManaged: edges.launcher.isManaged,
      onOrphanReaped: (pid, status) => {
        if (!this.command.reaped(pid, status)) logger.debug({ event: 'reaped', pid, ...status }, 'reaped');
      },
      onError: (err) => logger.error({ event: 'reap-failed', err }, 'reap-failed'),
    });
    this.command = new Command(logger, (status) => void this.stop({ kind: 'command-exited', status }), edges);
    const sources = { supervisor: this.supervisor, clock: edges.clock, wallClock: edges.wallClock, waiting: () => this.services.waiting(), invalid: () => this.services.invalid() };
    this.health = new HealthPublisher({
      socket: settings.socketPath,
      statuses: () => statusesOf(sources, allNames(sources)),
      services: () => this.supervisor.list(),
      subscribe: (listener) => this.services.onChange(listener),
      now: () => edges.clock.now(),
      schedule: edges.schedule,
      openFiles: (text) => edges.healthFiles(settings.socketPath, text),
      logger,
    });
    const handler = (handle = controlHandler({
      ...sources,
      usage: new UsageSampler(edges.usage),
      halt: (code) => void this.stop({ kind: 'halt', code, by: 'warden halt' }),
      reload: () => this.services.rescan('reload'),
      stopping: () => this.isStopping(),
      units: () => this.services.atomStates(),
      atomsOf: (names) => this.services.atomsOf(names),
      change: (direction, atoms, timeoutMs) => this.services.change(direction, atoms, timeoutMs),
    }));
    // Only dirs that exist (they come with the image): chokidar watching a path that is not
    // there watches its parents instead (all of /etc), which makes rescans from unrelated changes.
    this.watchedDirs = [...settings.serviceDirs, ...settings.s6RcDirs].filter((d) => edges.exists(d));
    this.watcher = edges.watcher(this.watchedDirs, {
      settleMs: WATCH_SETTLE_MS,
      onChange: () => void this.services.rescan('watcher'),
      onError: (err) => logger.warn({ event: 'watch-error', err }, 'watch-error'),
    });
    this.control = edges.controlServer(settings.socketPath, handler, (err) =>
      logger.error({ event: 'control-error', err }, 'control-error'),
    );
    this.signalRoutes = {
      logger,
      clock: edges.clock,
      hup: settings.hup,
      stop: (signal, powerOff) => {
        if (this.divertToCommand(signal)) return;
        void this.stop(powerOff ? { kind: 'halt', code: 0, by: signal } : { kind: 'signal', signal });
      },
      rescan: () => void this.services.rescan('SIGHUP'),
      forward: (signal, name) => this.forward(signal, name),
    };
  }

  /** A method, not a field read: boot asks again after each await, when a stop may have come. */
  private isStopping(): boolean {
    return this.life.kind === 'stopping';
  }

  /** Runs the container until it stops; resolves with the exit code. */
  async run(): Promise<number> {
    this.handleSignals();
    this.boot().catch((err: unknown) => this.stop({ kind: 'boot-failed', message: String(err) }));
    return this.exited;
  }

  private becomeReaper(): void {
    if (!this.edges.pid1) {
      try {
        this.edges.becomeSubreaper();
      } catch (err) {
        this.logger.warn({ event: 'subreaper-failed', err }, 'not PID 1 and cannot become a subreaper: orphans escape');
      }
      // koffi is loaded by now: a sub-init, which the kernel does not shield, catches the rest.
      armNativeSignals(this.signalRoutes, this.edges.signals);
    }
    this.reaper.start();
  }

  private handleSignals(): void {
    routeSignals(this.signalRoutes, this.edges.signals);
  }

  /**
   * S6_CMD_RECEIVE_SIGNALS: while CMD runs, a signal that would stop the container goes to CMD
   * alone, as s6-overlay's diverted handlers send it; the container stops when CMD exits.
   */
  private divertToCommand(signal: string): boolean {
    if (!this.settings.cmdReceivesSignals || !DIVERTED_SIGNALS.has(signal)) return false;
    const number = signalNumber(signal);
    if (number === null || this.command.forward(number) === null) return false;
    this.logger.info({ event: 'signal', signal, forwardedTo: 'cmd' }, 'signal diverted to CMD (S6_CMD_RECEIVE_SIGNALS)');
    return true;
  }

  /**
   * Passes a signal on to CMD and to every running service with `forward-signals` naming it; a
   * service's goes through its state machine, like every signal warden sends a service.
   */
  private forward(signal: number, name: string): string[] {
    const to: string[] = [];
    if (this.command.forward(signal) !== null) to.push('cmd');
    for (const service of this.supervisor.list()) {
      if (!service.spec.forwardSignals.includes(signal)) continue;
      const kind = service.state.kind;
      if (kind !== 'starting' && kind !== 'up') continue;
      this.supervisor.send(service.spec.name, { type: 'signal', signal });
      to.push(service.spec.name);
    }
    if (to.length === 0) this.logger.debug({ event: 'signal-not-forwarded', signal: name }, 'no CMD and no service takes this signal');
    return to;
  }

  private async boot(): Promise<void> {
    const { settings, logger } = this;
    logger.info({ event: 'boot', pid1: this.edges.pid1, serviceDirs: settings.serviceDirs, s6RcDirs: settings.s6RcDirs }, 'boot');
    logger.info(
      { event: 'hup', action: settings.hup, chosenBy: settings.hupChosen ? 'WARDEN_HUP' : settings.command.length > 0 ? 'CMD given' : 'no CMD' },
      settings.hup === 'forward' ? 'SIGHUP is forwarded to CMD (WARDEN_HUP=rescan makes it rescan)' : 'SIGHUP rescans the service dirs (WARDEN_HUP=forward makes it forward)',
    );
    for (const n of settings.overlayNotes) {
      logger.info({ event: n.honoured ? 's6-setting' : 's6-setting-ignored', variable: n.variable, value: n.value }, `${n.variable}=${n.value}: ${n.message}`);
    }
    // The runtime files are written on the threadpool while this thread becomes the reaper and
    // opens the control socket; all three are done before the first script or service starts.
    const runtime = this.edges.runtimeFiles.prepare({
      logger,
      env: this.edges.env,
      runDir: settings.runDir,
      s6Runtime: settings.s6Runtime,
      wardenArgv: this.edges.wardenArgv,
      socketPath: settings.socketPath,
    });
    this.becomeReaper();
    // A missing control socket costs the CLI, not the services: warn and go on.
    await this.control.listen().then(
      () => this.health.start(),
      (err: unknown) => logger.warn({ event: 'control-unavailable', socket: settings.socketPath, err }, 'control-unavailable'),
    );
    this.exitcodeStamp = await runtime;
    if (settings.metricsAddr !== null) await this.startMetrics(settings.metricsAddr);
    for (const dir of settings.requiredDirs) {
      if (!this.edges.exists(dir)) logger.warn({ event: 'dir-missing', dir }, `${dir} does not exist: nothing is read from it; the container starts what else it has`);
    }
    if (settings.waitForClosingFd !== null) {
      const fd = settings.waitForClosingFd;
      logger.info({ event: 'waiting-for-closing-fd', fd }, `waiting for end of file on fd ${fd} (S6_WAIT_FOR_CLOSING_FD)`);
      const err = await this.edges.waitForClosingFd(fd);
      if (err !== null) logger.warn({ event: 'closing-fd-unreadable', fd, err }, `fd ${fd} cannot be read: boot goes on`);
      else logger.info({ event: 'closing-fd-closed', fd }, `fd ${fd} closed: boot goes on`);
    }
    if (this.isStopping()) return;
    if (settings.stage2Hook.length > 0) await this.runStage2Hook();
    if (this.isStopping()) return;

    await this.services.rescan('boot');
    // The previous boot's environment dirs go now that the services run, not before them.
    this.edges.runtimeFiles.removeStaleEnvDirs(envDirs(settings.runDir, settings.s6Runtime));
    // Watching starts after the first services do; one more rescan once it is on catches any
    // change made in between (it touches nothing when nothing changed).
    void this.watcher
      .start()
      .then(() => this.services.rescan('watcher'))
      .then(() => logger.info({ event: 'watching', dirs: this.watchedDirs.join(',') }, 'watching'))
      .catch((err: unknown) => logger.warn({ event: 'watch-unavailable', err }, 'watch-unavailable'));
    // As s6-overlay's rc.init: the bring-up as a whole (s6-rc -u change top) ends first; a failed
    // unit, or one not up within S6_CMD_WAIT_FOR_SERVICES_MAXTIME, is a stage 2 failure.
    const brought = await this.services.whenBroughtUp(settings.cmdWaitMs);
    if (this.isStopping()) return;
    if (brought.failed.length > 0 || brought.timedOut.length > 0) await this.bringUpFailed(brought);
    if (this.isStopping()) return;
    if (settings.command.length > 0) {
      if (brought.timedOut.length > 0) logger.warn({ event: 'cmd-wait-timeout', afterMs: settings.cmdWaitMs, waiting: brought.timedOut.join(',') }, 'starting CMD before every service is ready');
      // As PID 1 koffi loads only now (CMD's spawn needs it): fault signals get their handlers here.
      armNativeSignals(this.signalRoutes, this.edges.signals);
      this.command.start(settings.command, this.edges.env);
    }
    if (this.life.kind === 'booting') this.life = { kind: 'up' };
  }

  /** Off by default: the server is started only when asked for. */
  private async startMetrics(address: string): Promise<void> {
    const metrics = await this.edges.startMetrics({
      address,
      supervisor: this.supervisor,
      waiting: () => this.services.waiting(),
      logs: this.logs,
      clock: this.edges.clock,
      wallClock: this.edges.wallClock,
      logger: this.logger,
    });
    this.closeMetrics = () => metrics.close();
  }

  /**
   * The bring-up did not bring everything up: S6_BEHAVIOUR_IF_STAGE2_FAILS decides, as in
   * s6-overlay's rc.init (0: go on; 1: go on with a warning; 2: stop the container with s6-rc's
   * code, 1 for a failed unit, 2 for a timeout). Without s6-overlay's runtime, warden's own
   * default (stop) exits 111 on a failed unit and only warns on a timeout, as it always did.
   */
  private async bringUpFailed(outcome: { failed: readonly string[]; timedOut: readonly string[] }): Promise<void> {
    const { settings, logger } = this;
    const code = outcome.failed.length > 0 ? 1 : 2;
    const what = outcome.failed.length > 0 ? `failed: ${outcome.failed.join(', ')}` : `not up after ${settings.cmdWaitMs} ms: ${outcome.timedOut.join(', ')}`;
    const reason = `the services did not all come up (${what})`;
    if (settings.stage2Failure === 'continue-silently' || (settings.stage2Failure === 'stop' && !settings.s6Runtime && outcome.failed.length === 0)) return;
    if (settings.stage2Failure === 'continue') {
      logger.warn({ event: 'boot-continues', reason }, `${reason}; continuing (S6_BEHAVIOUR_IF_STAGE2_FAILS=1)`);
      return;
    }
    logger.error({ event: 'stage2-failed', reason, code }, `${reason}: stopping the container`);
    await this.haltWith(code, reason);
  }

  /**
   * Stops the container for a stage 2 failure. Under s6-overlay's runtime as its rc.init does:
   * the code goes to the exitcode file (cont-finish.d may change it) and the container halts;
   * else warden's own "cannot start" (111).
   */
  private async haltWith(code: number, reason: string): Promise<void> {
    if (!this.settings.s6Runtime) {
      void this.stop({ kind: 'boot-failed', message: reason });
      return;
    }
    await this.edges.runtimeFiles.writeExitCode(code);
    void this.stop({ kind: 'halt', code, by: 'S6_BEHAVIOUR_IF_STAGE2_FAILS=2' });
  }

  private async loadServices(): Promise<LoadedUnits> {
    const { settings, logger } = this;
    const loaded = await this.edges.loadUnits(settings);
    for (const p of loaded.problems) logger.error({ event: 'config-problem', file: p.file, line: p.line }, formatProblem(p));
    // Sockets are bound here, once per service: one whose socket cannot be bound (a port in use)
    // is left out like a service with a bad file, and the next rescan tries it again.
    const held = this.sockets.sync(loaded.services);
    for (const p of held.problems) logger.error({ event: 'listen-failed', file: p.file, line: p.line }, formatProblem(p));
    const runnable = new Set(held.runnable.map((s) => s.name));
    const unbound = loaded.services.filter((s) => !runnable.has(s.name));
    const set = withoutAtoms(loaded.set, new Map(unbound.map((s) => [s.name, 'its socket cannot be bound'])));
    // What depends on a service left out here cannot start either: each says why.
    const dirOf = new Map([...loaded.services, ...loaded.oneshots].map((u) => [u.name, u.dir]));
    const blockedNow = [...set.blocked].filter(([name]) => !loaded.set.blocked.has(name) && !unbound.some((s) => s.name === name));
    for (const [name, why] of blockedNow) logger.error({ event: 'dependency-problem', service: name }, why);
    await this.edges.runtimeFiles.writeUnitsFile(settings.runDir, set, logger);
    for (const error of this.pipes.sync(set.pipes)) logger.error({ event: 'pipe-failed' }, error);
    const invalid = [
      ...loaded.invalid,
      ...unbound.map((s) => ({ name: s.name, dir: s.dir, problems: problemsUnder(held.problems, s.dir) })),
      ...blockedNow.map(([name, why]) => ({ name, dir: dirOf.get(name) ?? name, problems: [problem(dirOf.get(name) ?? name, why)] })),
    ];
    const services = held.runnable.filter((s) => set.atoms.has(s.name));
    // Each longrun's /run/service/NAME: one waiting for its dependencies is down there.
    this.s6Protocol.known(services);
    return { set, services, oneshots: loaded.oneshots.filter((o) => set.atoms.has(o.name)), invalid };
  }

  /**
   * Runs a oneshot's up or down. s6-overlay's own oneshots are carried out here, as its scripts
   * do them: fix-attrs.d, then cont-init.d (every script, in order; down: cont-finish.d), and
   * legacy-services, whose longruns are the services.d services that depend on it.
   */
  private async runUnit(spec: OneshotSpec, phase: 'up' | 'down'): Promise<OneshotOutcome> {
    const { settings, logger } = this;
    switch (spec.action.kind) {
      case 'script':
        return runOneshot(spec, phase, { edges: this.edges, logger, execlineb: settings.execlineb, downCapMs: settings.servicesGraceMs });
      case 'legacy-services':
        // s6-overlay's services-up reads /etc/services.d as legacy-services comes up, after
        // cont-init.d: a service a cont-init.d script wrote there is started with the others.
        // The rescan adds it behind legacy-services, which is up once this returns.
        if (phase === 'up') {
          await this.services.rescan('legacy-services').catch((err: unknown) => logger.error({ event: 'rescan-failed', err }, 'rescan-failed'));
        }
        return { ok: true };
      case 'fix-attrs': {
        if (phase === 'down') return { ok: true };
        const failures = await this.edges.fixAttrs({ dirs: settings.fixAttrsDirs, logger, hidden: settings.fixAttrsHidden });
        for (const f of failures) logger.error({ event: 'fix-attrs-failed' }, f);
        return this.stage2Outcome(failures.length === 0 ? null : `fix-attrs.d: ${failures.length} line(s) failed to apply`);
      }
      case 'cont-init': {
        const up = phase === 'up';
        const failures = await runScripts(await this.edges.listScripts(up ? settings.contInitDirs : settings.contFinishDirs), {
          edges: this.edges,
          logger,
          stage: up ? 'cont-init' : 'cont-finish',
          timeoutMs: up ? 0 : settings.contFinishMaxMs,
          stopOnFailure: false,
        });
        // As s6-overlay's cont-finish: its scripts' failures never fail the shutdown.
        return up ? this.stage2Outcome(failures.length === 0 ? null : failures.map((f) => f.reason).join('; ')) : { ok: true };
      }
    }
  }

  /**
   * s6-overlay's fix-attrs and cont-init run every file, then fail only under
   * S6_BEHAVIOUR_IF_STAGE2_FAILS=2; below that the failures were logged and boot goes on.
   */
  private stage2Outcome(failure: string | null): OneshotOutcome {
    if (failure === null || this.settings.stage2Failure === 'continue-silently') return { ok: true };
    if (this.settings.stage2Failure === 'continue') {
      this.logger.warn({ event: 'boot-continues', reason: failure }, 'continuing after a failed boot step (S6_BEHAVIOUR_IF_STAGE2_FAILS=1)');
      return { ok: true };
    }
    return { ok: false, reason: failure };
  }

  /**
   * S6_STAGE2_HOOK: run before any unit. As s6-overlay's rc.init: a failure is logged; under
   * S6_BEHAVIOUR_IF_STAGE2_FAILS=2 it stops the container with the hook's code.
   */
  private async runStage2Hook(): Promise<void> {
    const [file, ...args] = this.settings.stage2Hook;
    const failure = await new Promise<{ code: number; reason: string } | null>((resolve) => {
      const launched = this.edges.launcher.launch({
        file: file!,
        args,
        env: this.edges.env,
        detached: false,
        onExit: (status) => {
          if (status.kind === 'exited' && status.code === 0) resolve(null);
          else resolve({ code: exitCodeOf(status), reason: `S6_STAGE2_HOOK ${file} ${status.kind === 'exited' ? `exited ${status.code}` : `was killed by signal ${status.signal}`}` });
        },
      });
      if (!launched.ok) resolve({ code: EXIT_CANNOT_START, reason: `S6_STAGE2_HOOK: ${launched.error}` });
    });
    if (failure === null) return;
    if (this.settings.stage2Failure !== 'stop') {
      this.logger.warn({ event: 'stage2-hook-failed', reason: failure.reason }, failure.reason);
      return;
    }
    this.logger.error({ event: 'stage2-failed', reason: failure.reason, code: failure.code }, `${failure.reason}: stopping the container`);
    await this.haltWith(failure.code, failure.reason);
  }

  /** The first call decides the reason; later calls wait for the same shutdown. */
  stop(reason: StopReason): Promise<number> {
    if (this.life.kind === 'stopping') {
      this.logger.info({ event: 'already-stopping', reason: reason.kind }, 'already-stopping');
      return this.life.exit;
    }
    const exit = this.shutdown(reason).then(
      (code) => code,
      (err: unknown) => {
        this.logger.error({ event: 'shutdown-failed', err }, 'shutdown-failed');
        return EXIT_CANNOT_START;
      },
    );
    this.life = { kind: 'stopping', reason, exit };
    void exit.then(this.resolveExit);
    return exit;
  }

  private async shutdown(reason: StopReason): Promise<number> {
    const { settings, logger } = this;
    logger.info({ event: 'shutdown', reason: reason.kind, ...reasonFields(reason) }, 'shutdown');

    // As s6-overlay's rc.init does: CMD's code goes to the exitcode file, where cont-finish.d
    // scripts can read it, or write another.
    if (settings.s6Runtime && reason.kind === 'command-exited') await this.edges.runtimeFiles.writeExitCode(exitCodeOf(reason.status));
    const commandStatus = await this.command.stop(settings.servicesGraceMs);
    await this.services.stopAll();
    this.s6Protocol.closeAll();
    // No service runs any more: end the notify wait (a blocked threadpool thread) and any check.
    this.supervisor.close();
    // Nothing will accept on the held sockets any more: close them, so clients get refused at once.
    this.sockets.closeAll();
    this.pipes.close();
    this.closeMetrics();
    this.health.close();
    this.control.close();
    await this.watcher.close();
    const left = await this.edges.killEverything({ graceMs: settings.killGraceMs, reaper: this.reaper, logger });
    // The last lines reach the files and stdout; a dead disk or reader must not hold PID 1 past its deadline.
    await Promise.race([this.logs.close(), this.delay(settings.killGraceMs)]);
    if (settings.syncDisks) await this.sync();
    let code = exitCode(reason, commandStatus);
    // A script that wrote /run/s6-linux-init-container-results/exitcode chose the code (s6-overlay).
    // Only a file warden wrote at boot counts: one it could not write (another user's, a host's
    // leftover) says nothing about this container.
    const written =
      settings.s6Runtime && reason.kind !== 'boot-failed' && this.exitcodeStamp !== null ? await this.edges.runtimeFiles.readExitCode(this.exitcodeStamp) : null;
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
      const cancel = this.edges.schedule(this.settings.killGraceMs, resolve);
      const launched = this.edges.launcher.launch({ file: 'sync', env: this.edges.env, detached: false, onExit: () => (cancel(), resolve()) });
      if (!launched.ok) {
        this.logger.warn({ event: 'sync-failed', error: launched.error }, 'sync-failed');
        cancel();
        resolve();
      }
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => void this.edges.schedule(ms, resolve));
  }
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

