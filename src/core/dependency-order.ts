/** Start and stop order from `dependencies`: layers, each after the ones before it. */

export interface DependencyProblem {
  readonly service: string;
  readonly message: string;
}

export interface DependencyOrder {
  /** Start order: every service in a layer depends only on services in earlier layers. */
  readonly layers: readonly (readonly string[])[];
  /** Services left out, with why: a missing dependency or a cycle (naming the chain). */
  readonly problems: readonly DependencyProblem[];
}

/** Orders services by their dependencies; services on a cycle or missing a dependency are left out. */
export function dependencyOrder(deps: ReadonlyMap<string, readonly string[]>): DependencyOrder {
  const problems: DependencyProblem[] = [];
  const bad = new Set<string>();

  for (const [name, needs] of deps) {
    const missing = needs.filter((d) => !deps.has(d));
    if (missing.length > 0) {
      problems.push({ service: name, message: `depends on ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not a service` });
      bad.add(name);
    }
  }
  for (const cycle of findCycles(deps)) {
    // Every service on the cycle is left out, so each gets the chain, starting from itself.
    cycle.forEach((name, i) => {
      const chain = [...cycle.slice(i), ...cycle.slice(0, i), name];
      problems.push({ service: name, message: `dependency cycle: ${chain.join(' -> ')}` });
      bad.add(name);
    });
  }
  // Whatever depends, directly or not, on a bad service cannot start either.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, needs] of deps) {
      const blocker = needs.find((d) => bad.has(d));
      if (!bad.has(name) && blocker !== undefined) {
        problems.push({ service: name, message: `depends on ${blocker}, which cannot start` });
        bad.add(name);
        grew = true;
      }
    }
  }

  const layers: string[][] = [];
  const placed = new Set<string>();
  const pending = [...deps.keys()].filter((n) => !bad.has(n)).sort();
  while (pending.length > 0) {
    const layer = pending.filter((n) => deps.get(n)!.every((d) => placed.has(d)));
    for (const n of layer) {
      placed.add(n);
      pending.splice(pending.indexOf(n), 1);
    }
    layers.push(layer);
  }
  return { layers, problems };
}

/** Each elementary cycle once, as found by depth-first search (enough to name the chain). */
export function findCycles(deps: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (name: string): void => {
    const at = onPath.indexOf(name);
    if (at >= 0) {
      cycles.push(onPath.slice(at));
      return;
    }
    if (done.has(name) || !deps.has(name)) return;
    onPath.push(name);
    for (const d of deps.get(name)!) visit(d);
    onPath.pop();
    done.add(name);
  };
  for (const name of [...deps.keys()].sort()) visit(name);
  return cycles;
}
