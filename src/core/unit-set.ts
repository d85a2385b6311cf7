/**
 * The unit set: every service of a container as s6-rc sees it (longruns, oneshots, bundles and
 * the pipelines between longruns), resolved the way s6-rc-compile resolves its source dirs.
 * Pure: the config layer reads the dirs into UnitDefs, this decides what each atom depends on,
 * what starts at boot, what cannot start and why; the daemon drives the result.
 *
 * s6-overlay's own units (`base`, `fix-attrs`, `legacy-cont-init`, `legacy-services`, `user`,
 * `user2`, `top`) are units here like any other, with the dependencies s6-overlay's sources give
 * them, so an image may name them, add to them, and have them ordered as under s6-overlay.
 */
import { findCycles } from './dependency-order.js';

/** A name as some file lists it; a mistake about the name is reported at that file. */
export interface NameRef {
  readonly name: string;
  readonly file: string;
}

/** One unit as its source dir(s) define it; names are not resolved yet. */
export type UnitDef =
  | {
      readonly kind: 'longrun';
      readonly name: string;
      /** Where it is defined (its definition dir), for messages. */
      readonly dir: string;
      readonly deps: readonly NameRef[];
      /** `producer-for`: the longrun that reads this one's stdout. */
      readonly producerFor: NameRef | null;
      /** `consumer-for`: the longruns whose stdout this one reads. */
      readonly consumerFor: readonly NameRef[];
      /** `pipeline-name`: a bundle of the whole pipeline ending here (only on a last consumer). */
      readonly pipelineName: NameRef | null;
    }
  | { readonly kind: 'oneshot'; readonly name: string; readonly dir: string; readonly deps: readonly NameRef[] }
  | { readonly kind: 'bundle'; readonly name: string; readonly dir: string; readonly contents: readonly NameRef[] };

export type AtomKind = 'longrun' | 'oneshot';

/** A longrun or oneshot that can start: its dependencies are atoms, bundles expanded. */
export interface Atom {
  readonly name: string;
  readonly kind: AtomKind;
  readonly deps: readonly string[];
}

/** Producers whose stdout goes, through one pipe that outlives them all, to a consumer's stdin. */
export interface Pipe {
  readonly consumer: string;
  readonly producers: readonly string[];
}

export interface UnitProblem {
  readonly file: string;
  readonly message: string;
}

export interface UnitSet {
  /** Every atom that can start (well defined, every dependency defined, on no cycle). */
  readonly atoms: ReadonlyMap<string, Atom>;
  /** The atoms the roots bring up, with everything they depend on; sorted. */
  readonly wanted: readonly string[];
  /** Each bundle (pipeline bundles included) and the atoms it stands for. */
  readonly bundles: ReadonlyMap<string, readonly string[]>;
  readonly pipes: readonly Pipe[];
  /** Atoms that cannot start, with why. */
  readonly blocked: ReadonlyMap<string, string>;
  readonly problems: readonly UnitProblem[];
  /**
   * Longruns the bring-up waits for only until they are launched, not until up and ready:
   * s6-overlay's services.d services when S6_CMD_WAIT_FOR_SERVICES is not set (its services-up
   * starts them and returns). None when absent.
   */
  readonly launchedOnly?: readonly string[];
}

/** Where s6-overlay's own units are defined, for messages. */
export const OVERLAY_SOURCE = 's6-overlay';

/** s6-overlay's own units, as its sources dir and rc.init define them. */
export const OVERLAY_UNITS: readonly UnitDef[] = (() => {
  const ref = (name: string, owner: string, list: string): NameRef => ({ name, file: `${OVERLAY_SOURCE}/${owner}/${list}/${name}` });
  const oneshot = (name: string, deps: readonly string[]): UnitDef => ({ kind: 'oneshot', name, dir: `${OVERLAY_SOURCE}/${name}`, deps: deps.map((d) => ref(d, name, 'dependencies.d')) });
  const bundle = (name: string, contents: readonly string[]): UnitDef => ({ kind: 'bundle', name, dir: `${OVERLAY_SOURCE}/${name}`, contents: contents.map((c) => ref(c, name, 'contents.d')) });
  return [
    oneshot('fix-attrs', []),
    oneshot('legacy-cont-init', ['fix-attrs']),
    bundle('base', ['fix-attrs', 'legacy-cont-init']),
    oneshot('legacy-services', ['base', 'user']),
    bundle('user', []),
    bundle('user2', []),
    bundle('top', ['base', 'legacy-services', 'user', 'user2']),
  ];
})();

/** The bundle s6-overlay's rc.init brings up. */
export const TOP = 'top';

/** Names s6-rc keeps for itself (s6-rc-compile refuses them). */
export function reservedName(name: string): boolean {
  return name.startsWith('s6rc-') || name.startsWith('s6-rc-');
}

/**
 * Adds what a later layer says about a unit to its definition: more dependencies, more contents
 * (a layer that only ships `NAME/dependencies.d/X` or `NAME/contents.d/Y`).
 */
export function extendUnit(def: UnitDef, more: { readonly deps: readonly NameRef[]; readonly contents: readonly NameRef[] }): UnitDef {
  const add = (list: readonly NameRef[], extra: readonly NameRef[]): NameRef[] => [...list, ...extra.filter((e) => !list.some((l) => l.name === e.name))];
  return def.kind === 'bundle' ? { ...def, contents: add(def.contents, more.contents) } : { ...def, deps: add(def.deps, more.deps) };
}

/**
 * Resolves `defs` (one per name) as s6-rc-compile does; `roots` are what boot brings up;
 * `invalid` atoms are defined (others may name them) but cannot start: their files have problems.
 */
export function resolveUnits(defs: readonly UnitDef[], roots: readonly string[], invalid: ReadonlySet<string> = new Set()): UnitSet {
  const problems: UnitProblem[] = [];
  const byName = new Map(defs.map((d) => [d.name, d]));
  const blocked = new Map<string, string>();
  for (const name of [...invalid].sort()) if (byName.get(name)?.kind !== 'bundle') blocked.set(name, 'its definition has problems');

  const pipes = resolvePipes(byName, problems);
  // A pipeline-name is a bundle of the pipeline's members (s6-rc-compile makes it).
  const bundleDefs = new Map<string, readonly NameRef[]>();
  for (const d of defs) if (d.kind === 'bundle') bundleDefs.set(d.name, d.contents);
  for (const pipe of pipes.named) {
    if (byName.has(pipe.name.name)) {
      problems.push({ file: pipe.name.file, message: `pipeline name "${pipe.name.name}" is already the name of a service` });
      continue;
    }
    bundleDefs.set(pipe.name.name, pipe.members.map((m) => ({ name: m, file: pipe.name.file })));
  }

  const bundles = new Map<string, string[]>();
  const expanding: string[] = [];
  const expand = (name: string): string[] => {
    const cached = bundles.get(name);
    if (cached) return cached;
    if (expanding.includes(name)) {
      problems.push({ file: byName.get(name)?.dir ?? name, message: `bundle cycle: ${[...expanding.slice(expanding.indexOf(name)), name].join(' -> ')}` });
      return [];
    }
    expanding.push(name);
    const out = new Set<string>();
    for (const member of bundleDefs.get(name) ?? []) {
      const target = byName.get(member.name);
      if (bundleDefs.has(member.name)) for (const a of expand(member.name)) out.add(a);
      else if (target !== undefined) out.add(member.name);
      else problems.push({ file: member.file, message: `bundle ${name} contains "${member.name}", which is not defined anywhere` });
    }
    expanding.pop();
    const list = [...out].sort();
    bundles.set(name, list);
    return list;
  };
  for (const name of [...bundleDefs.keys()].sort()) expand(name);

  // Each atom's dependencies, bundles expanded; an undefined one blocks it.
  const deps = new Map<string, string[]>();
  for (const d of [...defs].sort(byUnitName)) {
    if (d.kind === 'bundle') continue;
    const out = new Set<string>();
    for (const dep of d.deps) {
      if (bundleDefs.has(dep.name)) for (const a of expand(dep.name)) out.add(a);
      else if (byName.has(dep.name)) out.add(dep.name);
      else {
        problems.push({ file: dep.file, message: `${d.name} depends on "${dep.name}", which is not defined anywhere: ${d.name} does not start` });
        blocked.set(d.name, `depends on "${dep.name}", which is not defined anywhere`);
      }
    }
    deps.set(d.name, [...out].sort());
  }

  for (const cycle of findCycles(deps)) {
    const first = byName.get(cycle[0]!)!;
    problems.push({ file: first.dir, message: `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}: none of them starts` });
    for (const name of cycle) if (!blocked.has(name)) blocked.set(name, `on a dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  }
  // Whatever depends on an atom that cannot start cannot start either.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, needs] of deps) {
      const blocker = needs.find((n) => blocked.has(n));
      if (blocked.has(name) || blocker === undefined) continue;
      blocked.set(name, `depends on ${blocker}, which cannot start`);
      grew = true;
    }
  }

  const atoms = new Map<string, Atom>();
  for (const [name, needs] of deps) {
    if (blocked.has(name)) continue;
    atoms.set(name, { name, kind: byName.get(name)!.kind as AtomKind, deps: needs });
  }

  const wanted = new Set<string>();
  const want = (name: string): void => {
    if (wanted.has(name) || !atoms.has(name)) return;
    wanted.add(name);
    for (const d of atoms.get(name)!.deps) want(d);
  };
  for (const root of roots) {
    if (bundleDefs.has(root)) for (const a of expand(root)) want(a);
    else want(root);
  }
  const livePipes = pipes.pipes.filter((p) => atoms.has(p.consumer)).map((p) => ({ ...p, producers: p.producers.filter((n) => atoms.has(n)) }));
  return { atoms, wanted: [...wanted].sort(), bundles, pipes: livePipes, blocked, problems };
}

/** Atoms in start order: each layer depends only on the layers before it. */
export function startLayers(set: UnitSet, names: Iterable<string> = set.atoms.keys()): string[][] {
  const pending = new Set([...names].filter((n) => set.atoms.has(n)));
  const placed = new Set<string>();
  const layers: string[][] = [];
  while (pending.size > 0) {
    const layer = [...pending].filter((n) => set.atoms.get(n)!.deps.every((d) => placed.has(d) || !pending.has(d))).sort();
    // Resolved sets have no cycles; an empty layer could only come from a caller's own map.
    if (layer.length === 0) break;
    for (const n of layer) {
      pending.delete(n);
      placed.add(n);
    }
    layers.push(layer);
  }
  return layers;
}

/** The atoms that may start now: wanted, not started, every dependency up. */
export function startable(set: UnitSet, isUp: (name: string) => boolean, started: (name: string) => boolean): string[] {
  return set.wanted.filter((n) => !started(n) && set.atoms.get(n)!.deps.every(isUp));
}

interface ResolvedPipes {
  readonly pipes: Pipe[];
  readonly named: { readonly name: NameRef; readonly members: string[] }[];
}

/** Checks each producer-for against its consumer-for, as s6-rc-compile does; returns the pipes. */
function resolvePipes(byName: ReadonlyMap<string, UnitDef>, problems: UnitProblem[]): ResolvedPipes {
  const pipes: Pipe[] = [];
  const named: { name: NameRef; members: string[] }[] = [];
  const longrun = (name: string) => {
    const d = byName.get(name);
    return d?.kind === 'longrun' ? d : null;
  };
  for (const d of [...byName.values()].sort(byUnitName)) {
    if (d.kind !== 'longrun') continue;
    if (d.producerFor !== null) {
      const consumer = longrun(d.producerFor.name);
      if (consumer === null) problems.push({ file: d.producerFor.file, message: `${d.name} is a producer for "${d.producerFor.name}", which is not a longrun` });
      else if (!consumer.consumerFor.some((p) => p.name === d.name)) {
        problems.push({ file: d.producerFor.file, message: `${d.name} is a producer for ${consumer.name}, whose consumer-for does not name ${d.name}` });
      }
    }
    if (d.consumerFor.length === 0) {
      if (d.pipelineName !== null) problems.push({ file: d.pipelineName.file, message: `pipeline-name is only read on a last consumer (a longrun with consumer-for and no producer-for): ignored` });
      continue;
    }
    const producers: string[] = [];
    for (const p of d.consumerFor) {
      const producer = longrun(p.name);
      if (producer === null) problems.push({ file: p.file, message: `${d.name} is a consumer for "${p.name}", which is not a longrun` });
      else if (producer.producerFor?.name !== d.name) problems.push({ file: p.file, message: `${d.name} is a consumer for ${p.name}, whose producer-for does not name ${d.name}` });
      else producers.push(p.name);
    }
    if (producers.length > 0) pipes.push({ consumer: d.name, producers: producers.sort() });
    if (d.pipelineName !== null) {
      if (d.producerFor !== null) {
        problems.push({ file: d.pipelineName.file, message: `pipeline-name is only read on a last consumer (a longrun with consumer-for and no producer-for): ignored` });
        continue;
      }
      const members: string[] = [];
      const visit = (name: string): void => {
        if (members.includes(name)) return;
        members.push(name);
        for (const p of longrun(name)?.consumerFor ?? []) if (longrun(p.name)?.producerFor?.name === name) visit(p.name);
      };
      visit(d.name);
      named.push({ name: d.pipelineName, members: members.sort() });
    }
  }
  return { pipes, named };
}

function byUnitName(a: UnitDef, b: UnitDef): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
