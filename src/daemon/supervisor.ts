/**
 * The services' runtime: feeds events to each service's state machine and carries out the
 * effects it returns. Events are queued and handled one at a time ("collect, then act"), so an
 * effect that produces an event (a spawn reporting its pid) never re-enters a transition.
 */
import type { Clock } from '../adapters/clock.js';
import type { Launcher, LaunchRequest } from '../adapters/launcher.js';
import type { Logger } from '../adapters/logger.js';
import type { ServiceLogs } from '../adapters/service-logs.js';
import { sendSignal } from '../adapters/signals.js';
import { boot, initialService, step, type Effect, type Goal, type Service, type ServiceEvent } from '../core/service-machine.js';
import type { ServiceSpec } from '../core/service-spec.js';

export interface SupervisorDeps {
  readonly clock: Clock;
  readonly launcher: Launcher;
  readonly logger: Logger;
  /** The environment every service starts from, before its `env/` is applied. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Where services' output goes (files and the container's stdout); none: inherited as is. */
  readonly logs?: ServiceLogs;
  /** A service whose `on-exit` is `halt` ended: stop the container with `code`. */
  readonly onHalt: (code: number, service: string) => void;
}

export class Supervisor {
  private readonly services = new Map<string, Service>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly finishers = new Map<string, number>();
  private readonly queue: [string, ServiceEvent][] = [];
  private readonly listeners = new Set<() => void>();
  private draining = false;

  constructor(private readonly deps: SupervisorDeps) {}

  /** Takes a service into supervision and brings it to its boot goal (or `goal`, when given). */
  add(spec: ServiceSpec, goal?: Goal): void {
    if (this.services.has(spec.name)) throw new Error(`service ${spec.name} is already supervised`);
    const now = this.deps.clock.now();
    const fresh = initialService(spec, now);
    const first = boot(goal ? { ...fresh, goal } : fresh, now);
    this.services.set(spec.name, first.service);
    this.apply(spec.name, first.effects);
    this.drain();
  }

  /** Stops the service (if running) and forgets it. */
  async retire(name: string, timeoutMs: number): Promise<void> {
    await this.bringDown(name, timeoutMs);
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
    this.services.delete(name);
    for (const listener of this.listeners) listener();
  }

  /** Stops the service, then supervises it anew with `spec`; one that was wanted down stays down. */
  async replace(spec: ServiceSpec, timeoutMs: number): Promise<void> {
    const wasDown = this.services.get(spec.name)?.goal === 'down';
    await this.retire(spec.name, timeoutMs);
    this.add(spec, wasDown ? 'down' : undefined);
  }

  private async bringDown(name: string, timeoutMs: number): Promise<void> {
    if (!this.services.has(name)) return;
    this.send(name, { type: 'down' });
    await this.waitUntil(() => (this.services.get(name)?.state.kind ?? 'down') === 'down', timeoutMs);
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

  /** Resolves true once `done()` holds, false after `timeoutMs`. */
  waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve(result);
      };
      // Infinity: wait for ever (setTimeout would fire at once for it).
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(false), timeoutMs) : undefined;
      const unsubscribe = this.onChange(() => done() && finish(true));
    });
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const [name, event] = next;
        const service = this.services.get(name)!;
        const result = step(service, event, this.deps.clock.now());
        this.services.set(name, result.service);
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
        const result = this.deps.launcher.launch({
          file: spec.run,
          cwd: spec.dir,
          env: this.envFor(spec),
          detached: true,
          notificationFd: spec.notificationFd,
          onExit: (status) => this.fromPid(name, pid, { type: 'exited', status }),
          onReady: () => this.fromPid(name, pid, { type: 'ready' }),
          onOutput: this.outputOf(spec),
        });
        const pid = result.ok ? result.pid : -1;
        this.queue.push([name, result.ok ? { type: 'spawned', pid } : { type: 'spawn-failed', error: result.error }]);
        return;
      }
      case 'signal':
        sendSignal(effect.pid, effect.signal);
        return;
      case 'run-finish': {
        const result = this.deps.launcher.launch({
          file: spec.finish!,
          args: effect.args,
          cwd: spec.dir,
          env: this.envFor(spec),
          detached: true,
          // As in s6, finish writes to the service's own log.
          onOutput: this.outputOf(spec),
          onExit: (status) => {
            this.finishers.delete(name);
            this.send(name, { type: 'finish-exited', status });
          },
        });
        if (result.ok) this.finishers.set(name, result.pid);
        else this.queue.push([name, { type: 'finish-exited', status: { kind: 'exited', code: 111 } }]);
        return;
      }
      case 'kill-finish': {
        const pid = this.finishers.get(name);
        if (pid !== undefined) sendSignal(pid, 'SIGKILL');
        return;
      }
      case 'set-timer': {
        clearTimeout(this.timers.get(name));
        const delay = Math.max(0, effect.at - this.deps.clock.now());
        this.timers.set(
          name,
          setTimeout(() => {
            this.timers.delete(name);
            this.send(name, { type: 'timer' });
          }, delay),
        );
        return;
      }
      case 'clear-timer':
        clearTimeout(this.timers.get(name));
        this.timers.delete(name);
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

  /** Events from a process reach the service only while that process is still its current one. */
  private fromPid(name: string, pid: number, event: ServiceEvent): void {
    const state = this.services.get(name)?.state;
    if (state && 'pid' in state && state.pid === pid) this.send(name, event);
  }

  private outputOf(spec: ServiceSpec): LaunchRequest['onOutput'] {
    const logs = this.deps.logs;
    return logs && ((stdout, stderr) => logs.attach(spec.name, stdout, stderr, spec.logLimits));
  }

  private envFor(spec: ServiceSpec): Record<string, string> {
    const env: Record<string, string> = { ...this.deps.baseEnv };
    for (const [key, value] of Object.entries(spec.env)) {
      if (value === null) delete env[key];
      else env[key] = value;
    }
    return env;
  }
}
