/** What a rescan of the service dirs changes: the live-reload plan. */
import type { ServiceSpec } from './service-spec.js';

export interface SpecDiff {
  readonly added: readonly ServiceSpec[];
  readonly removed: readonly string[];
  readonly changed: readonly ServiceSpec[];
  readonly unchanged: readonly string[];
}

/** Compares by value: any changed setting (or file path) is a change; order of keys does not matter. */
export function diffSpecs(current: ReadonlyMap<string, ServiceSpec>, next: readonly ServiceSpec[]): SpecDiff {
  const nextByName = new Map(next.map((s) => [s.name, s]));
  const added: ServiceSpec[] = [];
  const changed: ServiceSpec[] = [];
  const unchanged: string[] = [];
  for (const spec of next) {
    const old = current.get(spec.name);
    if (old === undefined) added.push(spec);
    else if (canonical(old) !== canonical(spec)) changed.push(spec);
    else unchanged.push(spec.name);
  }
  const removed = [...current.keys()].filter((name) => !nextByName.has(name));
  return { added, removed, changed, unchanged };
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
