/**
 * The one loader of a container's units, used by `warden boot` and `warden check` alike: the
 * s6 service dirs (services.d), the s6-rc source dirs (several layers, one set), the user
 * bundles, and what an image adds to s6-overlay's own sources dir, resolved together as
 * s6-overlay's stage 2 hands them to s6-rc-compile, with s6-overlay's own units built in.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ServiceSpec } from '../core/service-spec.js';
import { extendUnit, OVERLAY_UNITS, resolveUnits, TOP, type NameRef, type UnitDef, type UnitSet } from '../core/unit-set.js';
import { problem, problemsUnder, type ConfigProblem, type InvalidUnit } from './config-problem.js';
import { loadServiceDirs } from './load-services.js';
import { readSourceDir, type OneshotAction, type OneshotSpec } from './s6-rc-source.js';
import type { ServiceDefaults } from './service-dir.js';

/** Where a container's units come from. */
export interface UnitLayout {
  /** s6 service dirs, read in order (a name in an earlier dir wins): s6-overlay's legacy services. */
  readonly serviceDirs: readonly string[];
  /** s6-rc source dirs: layers of one set. */
  readonly s6RcDirs: readonly string[];
  /** Where `user` and `user2` are defined when no s6-rc dir defines `user` (s6-overlay's user-bundles.d). */
  readonly bundleDirs: readonly string[];
  /** s6-overlay's own sources dirs in the image, to which a base image may add units. */
  readonly overlaySourcesDirs: readonly string[];
  /** Dirs named on purpose (flags, `warden check DIR`): one that does not exist is a problem. */
  readonly required: readonly string[];
  /**
   * Whether the bring-up waits for the services.d services to be up and ready (the default), or
   * only until they are launched, as s6-overlay's services-up without S6_CMD_WAIT_FOR_SERVICES.
   */
  readonly waitForLegacyServices?: boolean;
}

export interface LoadedUnits {
  /** Every longrun that can start; those boot does not bring up are installed down. */
  readonly services: ServiceSpec[];
  /** Every oneshot that can run; those boot does not bring up run when asked (s6-rc -u change). */
  readonly oneshots: OneshotSpec[];
  readonly set: UnitSet;
  readonly problems: ConfigProblem[];
  /**
   * The units that cannot start, each with its own problems: its files are wrong, or it depends
   * on one that cannot start (or on nothing defined, or on itself through a cycle).
   */
  readonly invalid: InvalidUnit[];
}

/** The s6-overlay units warden carries out itself. */
const BUILTIN_ACTIONS: Readonly<Record<string, OneshotAction>> = {
  'fix-attrs': { kind: 'fix-attrs' },
  'legacy-cont-init': { kind: 'cont-init' },
  'legacy-services': { kind: 'legacy-services' },
};

/** What the legacy services (services.d) wait for: legacy-services' own dependencies. */
const LEGACY_AFTER = (() => {
  const unit = OVERLAY_UNITS.find((u) => u.name === 'legacy-services');
  return unit !== undefined && unit.kind !== 'bundle' ? unit.deps.map((d) => d.name) : [];
})();

/** The layout under `root` for s6-rc dirs at their usual places; user-bundles.d next to each. */
export async function overlaySourcesDirs(root: string): Promise<string[]> {
  const admin = join(root, 'package/admin');
  let names: string[];
  try {
    names = (await readdir(admin)).filter((n) => n.startsWith('s6-overlay')).sort();
  } catch {
    return [];
  }
  const found = new Map<string, string>();
  for (const n of names) {
    const dir = join(admin, n, 'etc/s6-rc/sources');
    try {
      if ((await stat(dir)).isDirectory()) found.set(await realpath(dir), dir);
    } catch {
      // Not there: nothing to add.
    }
  }
  return [...found.values()];
}

/** `ETC/s6-overlay/user-bundles.d` for an s6-rc dir at `ETC/s6-overlay/s6-rc.d`, else nothing. */
export function siblingBundleDirs(s6RcDirs: readonly string[]): string[] {
  return s6RcDirs
    .map((d) => resolve(d))
    .filter((d) => basename(d) === 's6-rc.d' && basename(dirname(d)) === 's6-overlay')
    .map((d) => join(dirname(d), 'user-bundles.d'));
}

/** Reads and resolves every unit of `layout`; never throws (problems are returned). */
export async function loadUnits(layout: UnitLayout, defaults: ServiceDefaults): Promise<LoadedUnits> {
  const problems: ConfigProblem[] = [];
  for (const dir of layout.required) {
    try {
      if (!(await stat(dir)).isDirectory()) problems.push(problem(resolve(dir), 'is not a directory'));
    } catch {
      problems.push(problem(resolve(dir), 'does not exist'));
    }
  }

  const defs = new Map<string, UnitDef>(OVERLAY_UNITS.map((d) => [d.name, d]));
  const longrunSpecs = new Map<string, ServiceSpec>();
  const oneshotSpecs = new Map<string, OneshotSpec>();
  const invalid = new Set<string>();
  const definedAt = new Map<string, string>();
  const fragments: { name: string; dir: string; deps: readonly NameRef[]; contents: readonly NameRef[] }[] = [];

  const sources = [...layout.overlaySourcesDirs, ...layout.s6RcDirs];
  const read = await Promise.all(sources.map((d) => readSourceDir(resolve(d), defaults)));
  // As s6-overlay's rc.init: a `user` in an s6-rc dir (the older place) means user-bundles.d is not read.
  const userInS6Rc = read.slice(layout.overlaySourcesDirs.length).some((r) => r.entries.some((e) => (e.kind === 'fragment' ? e.name : e.def.name) === 'user'));
  const bundles = userInS6Rc ? [] : await Promise.all(layout.bundleDirs.map((d) => readSourceDir(resolve(d), defaults)));
  for (const dir of [...read, ...bundles]) {
    problems.push(...dir.problems);
    for (const entry of dir.entries) {
      if (entry.kind === 'fragment') {
        fragments.push(entry);
        continue;
      }
      const { def } = entry;
      const builtin = OVERLAY_UNITS.find((u) => u.name === def.name);
      if (builtin !== undefined) {
        // s6-overlay's own unit, shipped by the image too (s6-overlay still installed, or a
        // layer's copy): what it adds counts; warden carries out the unit itself.
        if (builtin.kind !== def.kind) problems.push(problem(join(def.dir, 'type'), `"${def.name}" is s6-overlay's own ${builtin.kind}; it cannot be redefined as a ${def.kind}`));
        else fragments.push({ name: def.name, dir: def.dir, deps: def.kind === 'bundle' ? [] : def.deps, contents: def.kind === 'bundle' ? def.contents : [] });
        continue;
      }
      const first = definedAt.get(def.name);
      if (first !== undefined) {
        problems.push(problem(def.dir, `"${def.name}" is already defined in ${first}: a name is defined once across the source dirs (s6-rc-compile refuses it); this one is ignored`));
        continue;
      }
      definedAt.set(def.name, def.dir);
      defs.set(def.name, def);
      if (entry.kind === 'invalid') invalid.add(def.name);
      else if (entry.kind === 'longrun') longrunSpecs.set(def.name, entry.spec);
      else if (entry.kind === 'oneshot') oneshotSpecs.set(def.name, entry.spec);
    }
  }

  // The legacy services (services.d): s6-overlay's legacy-services oneshot starts them.
  const legacy = await loadServiceDirs(layout.serviceDirs, defaults);
  problems.push(...legacy.problems);
  const legacyNames = new Set<string>();
  // A legacy service that did not load is still defined: what depends on it is blocked by it,
  // not by a name "defined nowhere".
  for (const unit of legacy.invalid) {
    if (definedAt.has(unit.name) || OVERLAY_UNITS.some((u) => u.name === unit.name)) continue;
    definedAt.set(unit.name, unit.dir);
    defs.set(unit.name, { kind: 'longrun', name: unit.name, dir: unit.dir, deps: [], producerFor: null, consumerFor: [], pipelineName: null });
    invalid.add(unit.name);
  }
  for (const spec of legacy.services) {
    const first = definedAt.get(spec.name) ?? (OVERLAY_UNITS.some((u) => u.name === spec.name) ? 's6-overlay' : undefined);
    if (first !== undefined) {
      problems.push(problem(spec.dir, `service "${spec.name}" is already defined by ${first}; that one is used and this one is ignored`));
      continue;
    }
    definedAt.set(spec.name, spec.dir);
    legacyNames.add(spec.name);
    // What legacy-services waits for: they start as it runs (s6-overlay's services-up starts them
    // and returns), so what depends on legacy-services starts after them.
    const deps: NameRef[] = [...LEGACY_AFTER.map((name) => ({ name, file: spec.dir })), ...spec.dependencies.map((d) => ({ name: d, file: join(spec.dir, 'dependencies') }))];
    defs.set(spec.name, { kind: 'longrun', name: spec.name, dir: spec.dir, deps, producerFor: null, consumerFor: [], pipelineName: null });
    longrunSpecs.set(spec.name, spec);
  }

  for (const f of fragments) {
    const def = defs.get(f.name);
    if (def === undefined) {
      problems.push(problem(join(f.dir, 'type'), 'missing: an s6-rc service needs a type file holding longrun, oneshot or bundle (or another source dir must define it)'));
      continue;
    }
    defs.set(f.name, extendUnit(def, f));
  }

  // The legacy services are wanted with top: s6-overlay's legacy-services oneshot starts them all.
  const resolved = resolveUnits([...defs.values()], [TOP, ...[...legacyNames].sort()], invalid);
  const set = layout.waitForLegacyServices === false ? { ...resolved, launchedOnly: [...legacyNames].sort() } : resolved;
  problems.push(...set.problems.map((p) => problem(p.file, p.message)));
  const invalidUnits: InvalidUnit[] = [];
  for (const [name, reason] of set.blocked) {
    const dir = defs.get(name)?.dir ?? name;
    const own = invalid.has(name) ? problemsUnder(problems, dir) : [];
    invalidUnits.push({ name, dir, problems: own.length > 0 ? own : [problem(dir, reason)] });
  }
  const wanted = new Set(set.wanted);
  const services: ServiceSpec[] = [];
  const oneshots: OneshotSpec[] = [];
  for (const atom of set.atoms.values()) {
    if (atom.kind === 'longrun') {
      const spec = longrunSpecs.get(atom.name)!;
      // A services.d service keeps its down file; an s6-rc longrun is up when boot brings it up.
      const downAtBoot = legacyNames.has(atom.name) ? spec.downAtBoot : !wanted.has(atom.name);
      services.push({ ...spec, dependencies: atom.deps, downAtBoot });
    } else {
      const own = oneshotSpecs.get(atom.name);
      const action = BUILTIN_ACTIONS[atom.name];
      const spec: OneshotSpec = own ?? { name: atom.name, dir: `s6-overlay/${atom.name}`, action: action!, timeoutUpMs: 0, timeoutDownMs: 0, dependencies: [] };
      oneshots.push({ ...spec, dependencies: atom.deps });
    }
  }
  const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { services: services.sort(byName), oneshots: oneshots.sort(byName), set, problems, invalid: invalidUnits.sort(byName) };
}
