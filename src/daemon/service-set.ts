/**
 * Drives the unit set (core/unit-machine) with the real supervisor and oneshot runner: every
 * decision (what starts when, what goes down with what, stop layers, oneshot states) is the
 * model's; this carries out its effects and feeds it what happened. A rescan applies the
 * difference: added units start, removed ones stop, changed longruns restart, the rest stay.
 */
import type { Logger } from '../adapters/logger.js';
import type { InvalidUnit } from '../config/config-problem.js';
import { hasDown, type OneshotSpec } from '../config/s6-rc-source.js';
import type { ServiceSpec } from '../core/service-spec.js';
import { diffSpecs } from '../core/spec-diff.js';
import type { AtomState, RescanResult } from '../protocol/commands.js';
import {
  bringUpOutcome,
  dependenciesOf,
  dependentsOf,
  initialUnits,
  step,
  stopLayers,
  waitingAtoms,
  type LongrunView,
  type UnitEffect,
  type UnitEvent,
  type Units,
} from '../core/unit-machine.js';
import { resolveUnits, type UnitSet } from '../core/unit-set.js';
import type { DaemonEdges } from './edges.js';
import type { OneshotOutcome } from './oneshot-runner.js';
import type { Supervisor } from './supervisor.js';
import { waitUntil, type Subscribe } from './wait-until.js';

/** What one scan of the dirs found. */
export interface LoadedUnits {
  readonly set: UnitSet;
  /** A spec for every longrun atom of `set`. */
  readonly services: readonly ServiceSpec[];
  /** A spec for every oneshot atom of `set`. */
  readonly oneshots: readonly OneshotSpec[];
  /** The units that cannot start, with why: `warden status` shows them. */
  readonly invalid: readonly InvalidUnit[];
}

/** Runs a oneshot's up or down script to its end. */
export type OneshotRun = (spec: OneshotSpec, phase: 'up' | 'down') => Promise<OneshotOutcome>;

/**
 * What asked for a rescan: boot, the dir watcher, `warden reload`, SIGHUP, or s6-overlay's
 * legacy-services coming up (services.d is read again then, after cont-init.d).
 */
export type RescanCause = 'boot' | 'watcher' | 'reload' | 'SIGHUP' | 'legacy-services';

export interface ServiceSetDeps {
  /** Its timers (waits with a deadline); the rest of the edges are the supervisor's. */
  readonly edges: DaemonEdges;
  readonly supervisor: Supervisor;
  readonly logger: Logger;
  /** Reads the service dirs (and logs their problems). */
  readonly load: () => Promise<LoadedUnits>;
  /** How long a service may take to stop. */
  readonly stopBudgetMs: (spec: ServiceSpec) => number;
  readonly runOneshot: OneshotRun;
}

export class ServiceSet {
  private specs = new Map<string, ServiceSpec>();
  private oneshotSpecs = new Map<string, OneshotSpec>();
  /** Specs of longruns a rescan removed, until they are retired. */
  private readonly leaving = new Map<string, ServiceSpec>();
  private units: Units = initialUnits(resolveUnits([], []));
  private invalidUnits: ReadonlyMap<string, InvalidUnit> = new Map();
  private readonly queue: UnitEvent[] = [];
  private dispatching = false;
  /** Work an effect started that a rescan waits for (retiring a removed longrun). */
  private work: Promise<void>[] = [];
  private rescans: Promise<unknown> = Promise.resolve();
  /** Told after each step of the model: a change the supervisor does not see (a oneshot's state). */
  private readonly listeners = new Set<() => void>();
  private readonly supervisor: Supervisor;
  private readonly logger: Logger;
  private readonly view: LongrunView = (name) => {
    const kind = this.supervisor.get(name)?.state.kind ?? 'down';
    return kind === 'up' ? 'up' : kind === 'down' ? 'down' : 'between';
  };

  constructor(private readonly deps: ServiceSetDeps) {
    this.supervisor = deps.supervisor;
    this.logger = deps.logger;
    deps.supervisor.onChange(() => this.dispatch({ type: 'longrun-changed' }));
  }

  /**
   * Reads the dirs again and applies the difference; rescans run one at a time. The cause is
   * logged with the change, so an operator (and a test) sees what applied it.
   */
  rescan(cause: RescanCause): Promise<RescanResult> {
    const next = this.rescans.then(() => this.apply(cause));
    this.rescans = next.catch(() => undefined);
    return next;
  }

  /** The units of the last scan that cannot start, by name. */
  invalid(): ReadonlyMap<string, InvalidUnit> {
    return this.invalidUnits;
  }

  /** Units wanted up and not up yet: longruns waiting for dependencies, oneshots not done. */
  waiting(): string[] {
    return waitingAtoms(this.units, this.view);
  }

  /**
   * Resolves once the boot's bring-up is over (every wanted unit up and ready, or unable to come
   * up: a oneshot failed, or what it needs did), or after `timeoutMs`: which failed, and whether
   * some were still on their way.
   */
  async whenBroughtUp(timeoutMs: number): Promise<{ failed: readonly string[]; timedOut: readonly string[] }> {
    await waitUntil(this.deps.edges.schedule, this.subscribe, () => bringUpOutcome(this.units, this.view).done, timeoutMs);
    const outcome = bringUpOutcome(this.units, this.view);
    return { failed: outcome.failed, timedOut: outcome.pending };
  }

  /** Each atom (a bundle's members for a bundle name), or null naming one that is not defined. */
  atomsOf(names: readonly string[]): { ok: true; atoms: string[] } | { ok: false; unknown: string } {
    const atoms = new Set<string>();
    for (const name of names) {
      const members = this.units.set.bundles.get(name) ?? (this.units.set.atoms.has(name) ? [name] : null);
      if (members === null) return { ok: false, unknown: name };
      for (const m of members) atoms.add(m);
    }
    return { ok: true, atoms: [...atoms].sort() };
  }

  /** Every atom with its state, sorted. */
  atomStates(): AtomState[] {
    return [...this.units.set.atoms.values()]
      .map((atom) => ({ name: atom.name, kind: atom.kind, state: this.stateOf(atom.name) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * s6-rc's `change`: brings `atoms` up with what they need (or down with what needs them) and
   * resolves with the atoms that did not get there within `timeoutMs` (a failed oneshot fails
   * at once), empty when all did.
   */
  async change(direction: 'up' | 'down', atoms: readonly string[], timeoutMs: number): Promise<AtomState[]> {
    this.dispatch({ type: 'change', direction, atoms });
    const moved = direction === 'up' ? dependenciesOf(this.units.set, atoms) : dependentsOf(this.units.set, atoms);
    const there = (name: string): boolean => {
      const state = this.stateOf(name);
      return direction === 'up' ? state === 'up' : state === 'down' || state === 'failed';
    };
    const failed = (): boolean => direction === 'up' && moved.some((n) => this.stateOf(n) === 'failed');
    await waitUntil(this.deps.edges.schedule, this.subscribe, () => failed() || moved.every(there), timeoutMs);
    return this.atomStates().filter((a) => moved.includes(a.name) && !there(a.name));
  }

  /** Stops everything, dependents before their dependencies; no service starts after this. */
  async stopAll(): Promise<void> {
    this.dispatch({ type: 'close' });
    // A rescan still stopping a changed service finishes first, so it cannot start it again.
    await this.rescans;
    for (const layer of stopLayers(this.units, this.view)) await this.stopLayer(layer);
  }

  /** Calls `listener` after every change of a unit or of a supervised service; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    return this.subscribe(listener);
  }

  private readonly subscribe: Subscribe = (listener) => {
    const fromSupervisor = this.supervisor.onChange(listener);
    this.listeners.add(listener);
    return () => (fromSupervisor(), this.listeners.delete(listener));
  };

  private stateOf(name: string): AtomState['state'] {
    const atom = this.units.set.atoms.get(name);
    if (atom?.kind === 'oneshot') return this.units.oneshots.get(name)?.kind ?? 'down';
    const service = this.supervisor.get(name);
    if (service === undefined) return 'down';
    if (service.state.kind === 'up' || service.state.kind === 'down') return service.state.kind;
    return service.goal === 'down' ? 'stopping' : 'starting';
  }

  /** Steps the model with `event` (and whatever its effects cause), then tells the listeners. */
  private dispatch(event: UnitEvent): void {
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const result = step(this.units, next, this.view);
        this.units = result.units;
        for (const effect of result.effects) this.carryOut(effect);
      }
    } finally {
      this.dispatching = false;
    }
    for (const listener of [...this.listeners]) listener();
  }

  private carryOut(effect: UnitEffect): void {
    const { name } = effect;
    switch (effect.type) {
      case 'install':
      case 'start': {
        const goal = effect.type === 'install' ? 'down' : 'up';
        if (this.supervisor.get(name) !== undefined) this.supervisor.send(name, { type: goal });
        else this.supervisor.add(this.specs.get(name)!, goal);
        return;
      }
      case 'stop':
        // A changed longrun is out of the supervisor between its old run's retirement and its
        // new spec's add (never re-added once the shutdown began): nothing is left to stop.
        if (this.supervisor.get(name) !== undefined) this.supervisor.send(name, { type: 'down' });
        return;
      case 'retire': {
        const spec = this.leaving.get(name);
        this.leaving.delete(name);
        if (spec !== undefined) this.work.push(this.supervisor.retire(name, this.deps.stopBudgetMs(spec)));
        return;
      }
      case 'run': {
        const spec = this.oneshotSpecs.get(name)!;
        const finished = (outcome: OneshotOutcome): void =>
          this.dispatch({ type: 'oneshot-finished', name, phase: effect.phase, ok: outcome.ok, reason: outcome.ok ? '' : outcome.reason });
        // A oneshot without a down script is down at once.
        if (effect.phase === 'down' && !hasDown(spec)) queueMicrotask(() => finished({ ok: true }));
        else void this.deps.runOneshot(spec, effect.phase).then(finished);
        return;
      }
      case 'oneshot-up':
        this.logger.info({ event: 'oneshot-done', service: name }, 'oneshot-done');
        return;
      case 'oneshot-failed':
        this.logger.error({ event: 'oneshot-failed', service: name, reason: effect.reason, blocked: effect.blocked.join(',') }, 'oneshot-failed');
        return;
      case 'oneshot-down-failed':
        this.logger.error({ event: 'oneshot-down-failed', service: name, reason: effect.reason }, 'oneshot-down-failed');
        return;
    }
  }

  private async apply(cause: RescanCause): Promise<RescanResult> {
    const loaded = await this.deps.load();
    if (this.units.closed) return { added: [], removed: [], changed: [] };
    this.invalidUnits = new Map(loaded.invalid.map((u) => [u.name, u]));
    const before = new Set(this.units.set.atoms.keys());
    const diff = diffSpecs(this.specs, loaded.services);
    for (const name of diff.removed) this.leaving.set(name, this.specs.get(name)!);
    this.specs = new Map(loaded.services.map((s) => [s.name, s]));
    this.oneshotSpecs = new Map(loaded.oneshots.map((o) => [o.name, o]));
    // A services.d service with a `down` file: supervised, and started only when asked.
    const wanted = new Set(loaded.set.wanted);
    const heldDown = new Set(loaded.services.filter((s) => s.downAtBoot && wanted.has(s.name)).map((s) => s.name));

    this.work = [];
    // Changed longruns restart with their new spec (one not handed to the supervisor yet just waits).
    const replacing = diff.changed
      .filter((spec) => this.units.longruns.has(spec.name))
      .map((spec) => this.supervisor.replace(spec, this.deps.stopBudgetMs(spec), () => !this.units.closed));
    this.dispatch({ type: 'loaded', set: loaded.set, heldDown });
    await Promise.all([...replacing, ...this.work]);

    const after = new Set(loaded.set.atoms.keys());
    const result = {
      added: [...after].filter((n) => !before.has(n)).sort(),
      removed: [...before].filter((n) => !after.has(n)).sort(),
      changed: diff.changed.map((s) => s.name),
    };
    if (result.added.length + result.removed.length + result.changed.length > 0) {
      this.logger.info({ event: 'services-changed', cause, ...joinAll(result) }, 'services-changed');
    }
    // The replaced longruns are supervised anew: what waits for them looks again.
    this.dispatch({ type: 'longrun-changed' });
    return result;
  }

  private async stopLayer(layer: readonly string[]): Promise<void> {
    const running = layer.filter((name) => this.supervisor.get(name) !== undefined);
    this.dispatch({ type: 'bring-down', atoms: layer });
    const budget = Math.max(0, ...running.map((n) => this.deps.stopBudgetMs(this.specs.get(n) ?? this.leaving.get(n)!)));
    // One retired meanwhile (a change being applied) is down too.
    const down = (): boolean => running.every((n) => (this.supervisor.get(n)?.state.kind ?? 'down') === 'down');
    // A oneshot that came up goes down with its layer: its `down` script (capped by the runner).
    const oneshotsDown = (): boolean => layer.every((n) => this.units.oneshots.get(n)?.kind !== 'stopping');
    const [stopped] = await Promise.all([this.supervisor.waitUntil(down, budget), waitUntil(this.deps.edges.schedule, this.subscribe, oneshotsDown, Infinity)]);
    if (!stopped) {
      this.logger.error({ event: 'stop-timeout', services: running.join(',') }, 'services still running after their stop budget');
    }
  }
}

function joinAll(result: RescanResult): Record<string, string> {
  return Object.fromEntries(Object.entries(result).map(([key, names]: [string, readonly string[]]) => [key, names.join(',')]));
}
