/**
 * The set of services warden knows from their dirs: which wait for dependencies, which run,
 * and how a rescan changes them (added ones start, removed ones stop, changed ones restart,
 * the rest are left alone). Shutdown stops them in reverse dependency order.
 */
import type { Logger } from '../adapters/logger.js';
import { dependencyOrder } from '../core/dependency-order.js';
import type { ServiceSpec } from '../core/service-spec.js';
import { diffSpecs } from '../core/spec-diff.js';
import type { Supervisor } from './supervisor.js';

export interface RescanResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export class ServiceSet {
  private readonly specs = new Map<string, ServiceSpec>();
  private readonly pending = new Set<string>();
  private closed = false;
  private rescans: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly supervisor: Supervisor,
    private readonly logger: Logger,
    /** Reads the service dirs (and logs their problems). */
    private readonly load: () => Promise<readonly ServiceSpec[]>,
    /** How long a service may take to stop. */
    private readonly stopBudgetMs: (spec: ServiceSpec) => number,
  ) {
    supervisor.onChange(() => this.startReady());
  }

  /** Reads the dirs again and applies the difference; rescans run one at a time. */
  rescan(): Promise<RescanResult> {
    const next = this.rescans.then(() => this.apply());
    this.rescans = next.catch(() => undefined);
    return next;
  }

  /** Services known but not started yet: they wait for their dependencies. */
  waiting(): string[] {
    return [...this.pending];
  }

  /** Every service started, and every one wanted up is ready. */
  allReady(): boolean {
    if (this.pending.size > 0) return false;
    return [...this.specs.keys()].every((name) => {
      const s = this.supervisor.get(name);
      return s !== undefined && (s.goal === 'down' || s.state.kind === 'up');
    });
  }

  /** Stops everything, dependents before their dependencies; no service starts after this. */
  async stopAll(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    for (const layer of [...this.order().layers].reverse()) await this.stopLayer(layer);
  }

  private order() {
    return dependencyOrder(new Map([...this.specs.values()].map((s) => [s.name, s.dependencies])));
  }

  private async apply(): Promise<RescanResult> {
    const loaded = await this.load();
    const order = dependencyOrder(new Map(loaded.map((s) => [s.name, s.dependencies])));
    for (const p of order.problems) this.logger.error({ event: 'dependency-problem', service: p.service }, p.message);
    const startable = new Set(order.layers.flat());
    const diff = diffSpecs(this.specs, loaded.filter((s) => startable.has(s.name)));
    if (this.closed) return { added: [], removed: [], changed: [] };

    await Promise.all([
      ...diff.removed.map(async (name) => {
        const spec = this.specs.get(name)!;
        this.specs.delete(name);
        if (!this.pending.delete(name)) await this.supervisor.retire(name, this.stopBudgetMs(spec));
      }),
      ...diff.changed.map(async (spec) => {
        this.specs.set(spec.name, spec);
        if (!this.pending.has(spec.name)) await this.supervisor.replace(spec, this.stopBudgetMs(spec));
      }),
    ]);
    for (const spec of diff.added) {
      this.specs.set(spec.name, spec);
      this.pending.add(spec.name);
    }
    const result = { added: diff.added.map((s) => s.name), removed: diff.removed, changed: diff.changed.map((s) => s.name) };
    if (result.added.length + result.removed.length + result.changed.length > 0) {
      this.logger.info({ event: 'services-changed', ...joinAll(result) }, 'services-changed');
    }
    this.startReady();
    return result;
  }

  /** Starts each pending service whose dependencies are all up and ready. */
  private startReady(): void {
    if (this.closed) return;
    for (const name of this.pending) {
      const spec = this.specs.get(name)!;
      const ready = spec.dependencies.every((d) => this.supervisor.get(d)?.state.kind === 'up');
      if (!spec.downAtBoot && !ready) continue;
      this.pending.delete(name);
      this.supervisor.add(spec);
    }
  }

  private async stopLayer(layer: readonly string[]): Promise<void> {
    const running = layer.filter((name) => this.supervisor.get(name) !== undefined);
    for (const name of running) this.supervisor.send(name, { type: 'down' });
    const budget = Math.max(0, ...running.map((n) => this.stopBudgetMs(this.specs.get(n)!)));
    const down = (): boolean => running.every((n) => this.supervisor.get(n)?.state.kind === 'down');
    if (!(await this.supervisor.waitUntil(down, budget))) {
      this.logger.error({ event: 'stop-timeout', services: running.join(',') }, 'services still running after their stop budget');
    }
  }
}

function joinAll(result: RescanResult): Record<string, string> {
  return Object.fromEntries(Object.entries(result).map(([key, names]: [string, readonly string[]]) => [key, names.join(',')]));
}
