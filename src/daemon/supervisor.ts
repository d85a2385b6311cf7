/**
 * The services' runtime: feeds events to each service's state machine and carries out the
 * effects it returns. Events are queued and handled one at a time ("collect, then act"), so an
 * effect that produces an event (a spawn reporting its pid) never re-enters a transition.
 */
import { basename } from 'node:path';
import { runCheck, type CheckRun } from '../adapters/check-probe.js';
import type { LaunchRequest } from '../adapters/launcher.js';
import type { Logger } from '../adapters/logger.js';
import type { Stdio } from '../adapters/pipe-holder.js';
import { parseNotifyMessage, type NotifyEndpoint, type NotifySender, type NotifySocketSet } from '../adapters/notify-socket.js';
import { notifyVerdict } from '../core/notify-access.js';
import type { ServiceLogs } from '../adapters/service-logs.js';
import {
  boot,
  initialService,
  step,
  type Effect,
  type Goal,
  type Service,
  type ServiceEvent,
  type TimerId,
} from '../core/service-machine.js';
import { isSuccess, LAUNCH_FAILED, type ExitStatus } from '../core/exit-status.js';
import type { ServiceSpec } from '../core/service-spec.js';
import type { DaemonEdges } from './edges.js';
import { waitUntil } from './wait-until.js';

/** How long a retired service has to die after its SIGKILL. */
const RETIRE_KILL_WAIT_MS = 2000;

export interface SupervisorDeps {
  /** Clock, timers, launcher, signals; `edges.env` is what every service starts from, before its `env/`. */
  readonly edges: DaemonEdges;
  readonly logger: Logger;
  /** Where services' output goes (files and the container's stdout); none: inherited as is. */
  readonly logs?: Pick<ServiceLogs, 'attach' | 'forget'>;
  /** A service whose `on-exit` is `halt` ended: stop the container with `code`. */
  readonly onHalt: (code: number, service: string) => void;
  /** Where NOTIFY_SOCKET sockets are made (`RUNDIR/notify`). */
  readonly notifyDir: string;
  /** The listening sockets warden holds for a service (its `listen` file), passed to each run. */
  readonly heldFds?: (name: string) => readonly number[];
  /** The pipeline ends of a service (s6-rc producer-for / consumer-for); none by default. */
  readonly stdioOf?: (name: string) => Stdio;
  /** Told of every service taken in, each of its new states, and its end (s6-supervise's files). */
  readonly observer?: SupervisorObserver;
  /** The dir `run`, `finish` and `check` start in (its runtime dir, as s6's service dir); default: the service dir. */
  readonly workDirOf?: (spec: ServiceSpec) => string;
}

/** What follows each service's supervision from outside: its start, every state it takes, its end. */
export interface SupervisorObserver {
  added(service: Service): void;
  stepped(service: Service): void;
  removed(name: string): void;
}

export class Supervisor {
  private readonly services = new Map<string, Service>();
  /** What cancels each armed timer, keyed `NAME/TIMER`: each service has a main and a check timer. */
  private readonly timers = new Map<string, () => void>();
  /** The running `check` of each service. */
  private readonly checks = new Map<string, CheckRun>();
  private readonly notify: NotifySocketSet;
  private readonly queue: [string, ServiceEvent][] = [];
  private readonly listeners = new Set<() => void>();
  private draining = false;
  private shellPresent: boolean | undefined;

  constructor(private readonly deps: SupervisorDeps) {
    this.notify = deps.edges.notifySockets(deps.notifyDir, (err) =>
      deps.logger.error({ event: 'notify-socket-error', err }, 'notify-socket-error'),
    );
  }

  /**
   * Stops reading NOTIFY_SOCKETs and kills running checks. Call it at shutdown, after the
   * services stopped: the notify wait holds a threadpool thread that Node's exit would wait for
   * (an exit hook wakes it too, but closing here is the orderly way).
   */
  close(): void {
    this.notify.close();
    for (const name of [...this.checks.keys()]) this.stopCheck(name);
  }

  /** Takes a service into supervision and brings it to its boot goal (or `goal`, when given). */
  add(spec: ServiceSpec, goal?: Goal): void {
    if (this.services.has(spec.name)) throw new Error(`service ${spec.name} is already supervised`);
    const now = this.deps.edges.clock.now();
    const fresh = initialService(spec, now);
    const first = boot(goal ? { ...fresh, goal } : fresh, now);
    this.services.set(spec.name, first.service);
    this.deps.observer?.added(first.service);
    this.apply(spec.name, first.effects);
    this.drain();
  }

  /**
   * Stops the service (if running) and forgets it. Past `timeoutMs` it and its finish are
   * SIGKILLed: a service that ignores its down signal (with no `timeout-kill`) must not be left
   * running, unsupervised, once warden forgets it.
   */
  async retire(name: string, timeoutMs: number): Promise<void> {
    if (!(await this.bringDown(name, timeoutMs)) && this.services.has(name)) {
      const state = this.services.get(name)!.state;
      this.deps.logger.warn({ service: name, event: 'retire-kill', afterMs: timeoutMs, state: state.kind }, 'still running after its stop budget: SIGKILL');
      this.send(name, { type: 'kill' });
      await this.waitUntil(() => this.isDown(name), RETIRE_KILL_WAIT_MS);
    }
    this.clearTimer(name, 'main');
    this.clearTimer(name, 'check');
    this.stopCheck(name);
    this.services.delete(name);
    this.deps.observer?.removed(name);
    for (const listener of this.listeners) listener();
    // Its log file is closed before a replacement (same name) opens it again.
    await this.deps.logs?.forget(name);
  }

  /**
   * Stops the service, then supervises it anew with `spec` (unless `stillWanted` says no, as at
   * shutdown); one that was wanted down stays down.
   */
  async replace(spec: ServiceSpec, timeoutMs: number, stillWanted: () => boolean = () => true): Promise<void> {
    const wasDown = this.services.get(spec.name)?.goal === 'down';
    await this.retire(spec.name, timeoutMs);
    if (stillWanted()) this.add(spec, wasDown ? 'down' : undefined);
  }

  private isDown(name: string): boolean {
    return (this.services.get(name)?.state.kind ?? 'down') === 'down';
  }

  /** True once it is down, false when `timeoutMs` passed first. */
  private async bringDown(name: string, timeoutMs: number): Promise<boolean> {
    if (!this.services.has(name)) return true;
    this.send(name, { type: 'down' });
    return this.waitUntil(() => this.isDown(name), timeoutMs);
  }

  send(name: string, event: ServiceEvent): void {
    if (!this.services.has(name)) throw new Error(`no service named ${name}`);
    this.queue.push([name, event]);
    this.drain();
  }

  get(name: string): Service | undefined {
    return this.services.get(name);
  }

  list(): Service[] {
    return [...this.services.values()];
  }

  /** Calls `listener` after every handled event; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true once `done()` holds, false after `timeoutMs` (or once `cancel` aborts). */
  waitUntil(done: () => boolean, timeoutMs: number, cancel?: AbortSignal): Promise<boolean> {
    return waitUntil(this.deps.edges.schedule, (listener) => this.onChange(listener), done, timeoutMs, cancel);
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const [name, event] = next;
        const service = this.services.get(name)!;
        const result = step(service, event, this.deps.edges.clock.now());
        this.services.set(name, result.service);
        this.deps.observer?.stepped(result.service);
        this.apply(name, result.effects);
      }
    } finally {
      this.draining = false;
    }
    for (const listener of this.listeners) listener();
  }

  private apply(name: string, effects: readonly Effect[]): void {
    for (const effect of effects) {
      try {
        this.carryOut(name, effect);
      } catch (err) {
        // An effect that failed must not stop the others, nor the supervisor.
        this.deps.logger.error({ service: name, event: 'effect-failed', effect: effect.type, err }, 'effect-failed');
      }
    }
  }

  private carryOut(name: string, effect: Effect): void {
    const spec = this.services.get(name)!.spec;
    switch (effect.type) {
      case 'spawn': {
        const env = this.envFor(spec);
        let endpoint: NotifyEndpoint | null = null;
        if (spec.notifySocket) {
          try {
            // One socket per run: it lives exactly as long as the process it was made for.
            endpoint = this.notify.open(name, (text, sender) => this.fromNotify(spec, pid, text, sender));
          } catch (err) {
            const error = `cannot make its NOTIFY_SOCKET: ${err instanceof Error ? err.message : String(err)}`;
            this.queue.push([name, { type: 'spawn-failed', error }]);
            return;
          }
          env.NOTIFY_SOCKET = endpoint.path;
        }
        const passFds = this.deps.heldFds?.(name) ?? [];
        const command = viaShebang(spec.runVia, spec.run, []);
        const io = this.deps.stdioOf?.(name) ?? { stdin: null, stdout: null };
        const result = this.deps.edges.launcher.launch({
          ...(passFds.length > 0 ? this.withListenEnv(name, passFds.length, command, env) : command),
          stdin: io.stdin ?? 'ignore',
          stdout: io.stdout,
          cwd: this.workDir(spec),
          env,
          detached: true,
          user: spec.user,
          notificationFd: spec.notificationFd,
          passFds,
          onExit: (status) => {
            endpoint?.close();
            this.fromPid(name, pid, { type: 'exited', status });
          },
          onReady: () => this.fromPid(name, pid, { type: 'ready' }),
          onOutput: this.outputOf(spec),
        });
        const pid = result.ok ? result.pid : -1;
        if (!result.ok) endpoint?.close();
        this.queue.push([name, result.ok ? { type: 'spawned', pid } : { type: 'spawn-failed', error: result.error }]);
        return;
      }
      case 'run-check': {
        this.stopCheck(name);
        const started = runCheck(this.deps.edges, { file: spec.check!.file, cwd: this.workDir(spec), env: this.envFor(spec), user: spec.user }, (result) => {
          if (this.checks.get(name) !== run) return;
          this.checks.delete(name);
          this.send(name, isSuccess(result.status) ? { type: 'check-passed' } : { type: 'check-failed', status: result.status, output: result.output });
        });
        const run = started.ok ? started.run : null;
        if (run !== null) this.checks.set(name, run);
        else this.queue.push([name, { type: 'check-failed', status: LAUNCH_FAILED, output: started.ok ? '' : started.error }]);
        return;
      }
      case 'stop-check':
        this.stopCheck(name);
        return;
      case 'signal':
        this.deps.edges.signal(effect.pid, effect.signal);
        return;
      case 'kill-group':
        this.deps.edges.signal(-effect.pid, 'SIGKILL');
        return;
      case 'run-finish': {
        const result = this.deps.edges.launcher.launch({
          // As s6 (since 2.10): exit code, signal, and the service dir's name.
          ...viaShebang(spec.finishVia, spec.finish!, [...effect.args, basename(spec.dir)]),
          cwd: this.workDir(spec),
          env: this.envFor(spec),
          detached: true,
          user: spec.user,
          // As in s6, finish writes to the service's own log.
          onOutput: this.outputOf(spec),
          onExit: (status) => {
            if (result.ok) this.fromFinish(name, result.pid, status);
          },
        });
        this.queue.push([name, result.ok ? { type: 'finish-started', pid: result.pid } : { type: 'finish-exited', status: LAUNCH_FAILED }]);
        return;
      }
      case 'set-timer': {
        const { timer } = effect;
        const key = timerKey(name, timer);
        this.timers.get(key)?.();
        const delay = Math.max(0, effect.at - this.deps.edges.clock.now());
        this.timers.set(
          key,
          this.deps.edges.schedule(delay, () => {
            this.timers.delete(key);
            this.send(name, { type: 'timer', timer });
          }),
        );
        return;
      }
      case 'clear-timer':
        this.clearTimer(name, effect.timer);
        return;
      case 'log':
        this.deps.logger[effect.level]({ service: name, event: effect.event, ...effect.fields }, effect.event);
        return;
      case 'halt':
        this.deps.onHalt(effect.code, name);
        return;
      default: {
        const unreachable: never = effect;
        return unreachable;
      }
    }
  }

  private clearTimer(name: string, timer: TimerId): void {
    const key = timerKey(name, timer);
    this.timers.get(key)?.();
    this.timers.delete(key);
  }

  private stopCheck(name: string): void {
    const run = this.checks.get(name);
    if (run === undefined) return;
    this.checks.delete(name);
    run.stop();
  }

  /**
   * An sd_notify message: `READY=1`, `STATUS=` and `STOPPING=1` become events, in the order
   * sent; the rest (`MAINPID=`, `WATCHDOG=1`, `RELOADING=1`, `ERRNO=` …) is ignored: warden
   * supervises the process it started, whatever pid a message names.
   */
  private fromNotify(spec: ServiceSpec, pid: number, text: string, sender: NotifySender | null): void {
    const { name } = spec;
    const verdict = notifyVerdict(spec.notifyAccess, pid, sender, this.deps.edges.processes);
    if (!verdict.ok) {
      this.deps.logger.warn({ service: name, event: 'notify-refused', pid: sender?.pid, uid: sender?.uid }, `notify message refused: ${verdict.reason}`);
      return;
    }
    for (const { key, value } of parseNotifyMessage(text)) {
      if (key === 'READY' && value === '1') this.fromPid(name, pid, { type: 'ready' });
      else if (key === 'STATUS') this.fromPid(name, pid, { type: 'notify-status', text: value });
      else if (key === 'STOPPING' && value === '1') this.fromPid(name, pid, { type: 'notify-stopping' });
    }
  }

  /** Events from a process reach the service only while that process is still its current one. */
  private fromPid(name: string, pid: number, event: ServiceEvent): void {
    const state = this.services.get(name)?.state;
    if (state && 'pid' in state && state.pid === pid) this.send(name, event);
  }

  /** A finish's end counts only while it is the service's current finish: one of a run retired or replaced meanwhile is no one's business. */
  private fromFinish(name: string, pid: number, status: ExitStatus): void {
    const state = this.services.get(name)?.state;
    if (state?.kind === 'finishing' && state.finisher.kind === 'running' && state.finisher.pid === pid) this.send(name, { type: 'finish-exited', status });
  }

  private outputOf(spec: ServiceSpec): LaunchRequest['onOutput'] {
    const logs = this.deps.logs;
    return logs && ((stdout, stderr) => logs.attach(spec.name, stdout, stderr, spec.logLimits));
  }

  /**
   * systemd's socket-activation variables: LISTEN_FDS and LISTEN_FDNAMES go in `env`; LISTEN_PID
   * must be the service's own pid, which is known only once it runs, so a shell sets it and then
   * exec's the service (same pid): sd_listen_fds() ignores the fds unless LISTEN_PID is its getpid().
   * Without /bin/sh (a distroless image) LISTEN_PID is not set; `bind fd@3` and `listen({ fd: 3 })`
   * do not read it.
   */
  private withListenEnv(name: string, count: number, command: { file: string; args: string[] }, env: Record<string, string>): { file: string; args: string[] } {
    env.LISTEN_FDS = String(count);
    env.LISTEN_FDNAMES = Array.from({ length: count }, () => name).join(':');
    delete env.LISTEN_PID;
    this.shellPresent ??= this.deps.edges.exists(SHELL);
    if (!this.shellPresent) return command;
    return { file: SHELL, args: ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', name, command.file, ...command.args] };
  }

  private workDir(spec: ServiceSpec): string {
    return this.deps.workDirOf?.(spec) ?? spec.dir;
  }

  private envFor(spec: ServiceSpec): Record<string, string> {
    const env: Record<string, string> = { ...this.deps.edges.env };
    for (const [key, value] of Object.entries(spec.env)) {
      if (value === null) delete env[key];
      else env[key] = value;
    }
    return env;
  }
}

const SHELL = '/bin/sh';

/** The file and args that run `file` with `args`: through its `#!` interpreter when it has one to go through. */
function viaShebang(via: readonly string[], file: string, args: readonly string[]): { file: string; args: string[] } {
  return via.length === 0 ? { file, args: [...args] } : { file: via[0]!, args: [...via.slice(1), file, ...args] };
}

function timerKey(name: string, timer: TimerId): string {
  return `${name}/${timer}`;
}
