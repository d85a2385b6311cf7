/**
 * The set of services warden knows from their dirs: which wait for dependencies, which run,
 * and how a rescan changes them (added ones start, removed ones stop, changed ones restart,
 * the rest are left alone). Shutdown stops them in reverse dependency order.
 *
 * s6-rc oneshots live here too: one runs its `up` once its dependencies are up, and counts as
 * up when that succeeded; at shutdown its `down` runs in its place in the reverse order.
 */
import type { Logger } from '../adapters/logger.js';
import { problem, type InvalidUnit } from '../config/config-problem.js';
import { hasDown, type OneshotSpec } from '../config/s6-rc-source.js';
import { dependencyOrder } from '../core/dependency-order.js';
import type { ServiceSpec } from '../core/service-spec.js';
import { diffSpecs } from '../core/spec-diff.js';
import type { OneshotOutcome } from './oneshot-runner.js';
import type { Supervisor } from './supervisor.js';
import { waitUntil } from './wait-until.js';

/** What one scan of the dirs found. */
export interface LoadedUnits {
  readonly services: readonly ServiceSpec[];
  readonly oneshots: readonly OneshotSpec[];
  /** The units that cannot start, with why: `warden status` shows them. */
  readonly invalid: readonly InvalidUnit[];
}

/** Runs a oneshot's up or down script to its end. */
export type OneshotRun = (spec: OneshotSpec, phase: 'up' | 'down') => Promise<OneshotOutcome>;

type OneshotState = 'waiting' | 'running' | 'done' | 'failed';

interface Oneshot {
  spec: OneshotSpec;
  state: OneshotState;
}

export interface RescanResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export class ServiceSet {
  private readonly specs = new Map<string, ServiceSpec>();
  private readonly pending = new Set<string>();
  private readonly oneshots = new Map<string, Oneshot>();
  private invalidUnits = new Map<string, InvalidUnit>();
  private closed = false;
  private rescans: Promise<unknown> = Promise.resolve();
  /** Told when a oneshot finishes: a change the supervisor does not see. */
  private readonly oneshotListeners = new Set<() => void>();

  constructor(
    private readonly supervisor: Supervisor,
    private readonly logger: Logger,
    /** Reads the service dirs (and logs their problems). */
    private readonly load: () => Promise<LoadedUnits>,
    /** How long a service may take to stop. */
    private readonly stopBudgetMs: (spec: ServiceSpec) => number,
    private readonly runOneshot: OneshotRun = () => Promise.resolve({ ok: true }),
    /** A oneshot's up failed: its dependents will not start. */
    private readonly onOneshotFailed: (name: string, reason: string) => void = () => undefined,
  ) {
    supervisor.onChange(() => this.startReady());
  }

  /** Reads the dirs again and applies the difference; rescans run one at a time. */
  rescan(): Promise<RescanResult> {
    const next = this.rescans.then(() => this.apply());
    this.rescans = next.catch(() => undefined);
    return next;
  }

  /** Services known but not started yet: they wait for their dependencies (oneshots: until done). */
  waiting(): string[] {
    return [...this.pending, ...[...this.oneshots.values()].filter((o) => o.state !== 'done').map((o) => o.spec.name)];
  }

  /** The units of the last scan that cannot start, by name. */
  invalid(): ReadonlyMap<string, InvalidUnit> {
    return this.invalidUnits;
  }

  /** Every service started, every one wanted up is ready, and every oneshot is done. */
  allReady(): boolean {
    if (this.pending.size > 0) return false;
    if ([...this.oneshots.values()].some((o) => o.state !== 'done')) return false;
    return [...this.specs.keys()].every((name) => {
      const s = this.supervisor.get(name);
      return s !== undefined && (s.goal === 'down' || s.state.kind === 'up');
    });
  }

  /** Resolves true once `allReady()` holds, false after `timeoutMs`. */
  whenAllReady(timeoutMs: number): Promise<boolean> {
    const subscribe = (listener: () => void): (() => void) => {
      const fromSupervisor = this.supervisor.onChange(listener);
      this.oneshotListeners.add(listener);
      return () => (fromSupervisor(), this.oneshotListeners.delete(listener));
    };
    return waitUntil(subscribe, () => this.allReady(), timeoutMs);
  }

  /** Stops everything, dependents before their dependencies; no service starts after this. */
  async stopAll(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    // A rescan still stopping a changed service finishes first, so it cannot start it again.
    await this.rescans;
    for (const layer of [...this.order().layers].reverse()) await this.stopLayer(layer);
  }

  private order() {
    return dependencyOrder(
      new Map([...[...this.specs.values()], ...[...this.oneshots.values()].map((o) => o.spec)].map((s) => [s.name, s.dependencies])),
    );
  }

  private async apply(): Promise<RescanResult> {
    const loaded = await this.load();
    const order = dependencyOrder(new Map([...loaded.services, ...loaded.oneshots].map((s) => [s.name, s.dependencies])));
    for (const p of order.problems) this.logger.error({ event: 'dependency-problem', service: p.service }, p.message);
    const startable = new Set(order.layers.flat());
    const dirs = new Map([...loaded.services, ...loaded.oneshots].map((s) => [s.name, s.dir]));
    this.invalidUnits = new Map([
      ...loaded.invalid.map((u): [string, InvalidUnit] => [u.name, u]),
      ...order.problems.map((p): [string, InvalidUnit] => {
        const dir = dirs.get(p.service) ?? p.service;
        return [p.service, { name: p.service, dir, problems: [problem(dir, p.message)] }];
      }),
    ]);
    const diff = diffSpecs(this.specs, loaded.services.filter((s) => startable.has(s.name)));
    if (this.closed) return { added: [], removed: [], changed: [] };
    const oneshotsAdded = this.applyOneshots(loaded.oneshots.filter((o) => startable.has(o.name)));

    await Promise.all([
      ...diff.removed.map(async (name) => {
        const spec = this.specs.get(name)!;
        this.specs.delete(name);
        if (!this.pending.delete(name)) await this.supervisor.retire(name, this.stopBudgetMs(spec));
      }),
      ...diff.changed.map(async (spec) => {
        this.specs.set(spec.name, spec);
        if (!this.pending.has(spec.name)) await this.supervisor.replace(spec, this.stopBudgetMs(spec), () => !this.closed);
      }),
    ]);
    for (const spec of diff.added) {
      this.specs.set(spec.name, spec);
      this.pending.add(spec.name);
    }
    const result = {
      added: [...diff.added.map((s) => s.name), ...oneshotsAdded.added],
      removed: [...diff.removed, ...oneshotsAdded.removed],
      changed: diff.changed.map((s) => s.name),
    };
    if (result.added.length + result.removed.length + result.changed.length > 0) {
      this.logger.info({ event: 'services-changed', ...joinAll(result) }, 'services-changed');
    }
    this.startReady();
    return result;
  }

  /**
   * New oneshots wait to run; a removed one is forgotten (its down is not run: it may be
   * re-added). A changed one keeps its state: as with s6-rc, a oneshot that is up is not re-run.
   */
  private applyOneshots(loaded: readonly OneshotSpec[]): { added: string[]; removed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const next = new Map(loaded.map((o) => [o.name, o]));
    for (const name of [...this.oneshots.keys()]) {
      if (next.has(name)) continue;
      this.oneshots.delete(name);
      removed.push(name);
    }
    for (const spec of loaded) {
      const known = this.oneshots.get(spec.name);
      if (known) known.spec = spec;
      else {
        this.oneshots.set(spec.name, { spec, state: 'waiting' });
        added.push(spec.name);
      }
    }
    return { added, removed };
  }

  /** Up for its dependents: a longrun running and ready, or a oneshot whose up succeeded. */
  private isUp(name: string): boolean {
    const oneshot = this.oneshots.get(name);
    if (oneshot) return oneshot.state === 'done';
    return this.supervisor.get(name)?.state.kind === 'up';
  }

  /** Starts each pending service, and runs each waiting oneshot, whose dependencies are all up and ready. */
  private startReady(): void {
    if (this.closed) return;
    for (const name of this.pending) {
      const spec = this.specs.get(name)!;
      const ready = spec.dependencies.every((d) => this.isUp(d));
      if (!spec.downAtBoot && !ready) continue;
      this.pending.delete(name);
      this.supervisor.add(spec);
    }
    for (const oneshot of this.oneshots.values()) {
      if (oneshot.state !== 'waiting' || !oneshot.spec.dependencies.every((d) => this.isUp(d))) continue;
      oneshot.state = 'running';
      void this.runOneshot(oneshot.spec, 'up').then((outcome) => {
        // Forgotten (removed) meanwhile, or shut down: nothing depends on the outcome any more.
        if (this.oneshots.get(oneshot.spec.name) !== oneshot) return;
        oneshot.state = outcome.ok ? 'done' : 'failed';
        for (const listener of [...this.oneshotListeners]) listener();
        if (this.closed) return;
        if (outcome.ok) {
          this.logger.info({ event: 'oneshot-done', service: oneshot.spec.name }, 'oneshot-done');
          this.startReady();
        } else {
          this.logger.error({ event: 'oneshot-failed', service: oneshot.spec.name, reason: outcome.reason, blocked: this.dependentsOf(oneshot.spec.name).join(',') }, 'oneshot-failed');
          this.onOneshotFailed(oneshot.spec.name, outcome.reason);
        }
      });
    }
  }

  /** Every known service or oneshot that depends on `name`, directly or not. */
  private dependentsOf(name: string): string[] {
    const all = [...[...this.specs.values()], ...[...this.oneshots.values()].map((o) => o.spec)];
    const found = new Set<string>();
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of all) {
        if (!found.has(s.name) && s.dependencies.some((d) => d === name || found.has(d))) {
          found.add(s.name);
          grew = true;
        }
      }
    }
    return [...found].sort();
  }

  private async stopLayer(layer: readonly string[]): Promise<void> {
    const running = layer.filter((name) => this.supervisor.get(name) !== undefined);
    for (const name of running) this.supervisor.send(name, { type: 'down' });
    const budget = Math.max(0, ...running.map((n) => this.stopBudgetMs(this.specs.get(n)!)));
    const down = (): boolean => running.every((n) => this.supervisor.get(n)?.state.kind === 'down');
    // A oneshot that came up goes down with its layer: its `down` script, if it has one.
    const downs = layer
      .map((name) => this.oneshots.get(name))
      .filter((o): o is Oneshot => o !== undefined && o.state === 'done' && hasDown(o.spec))
      .map(async (o) => {
        const outcome = await this.runOneshot(o.spec, 'down');
        o.state = 'waiting';
        if (!outcome.ok) this.logger.error({ event: 'oneshot-down-failed', service: o.spec.name, reason: outcome.reason }, 'oneshot-down-failed');
      });
    const [stopped] = await Promise.all([this.supervisor.waitUntil(down, budget), ...downs]);
    if (!stopped) {
      this.logger.error({ event: 'stop-timeout', services: running.join(',') }, 'services still running after their stop budget');
    }
  }
}

function joinAll(result: RescanResult): Record<string, string> {
  return Object.fromEntries(Object.entries(result).map(([key, names]: [string, readonly string[]]) => [key, names.join(',')]));
}
