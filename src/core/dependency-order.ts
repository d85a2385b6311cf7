/** Dependency cycles, found once, for the unit set to name and block (core/unit-set). */

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
