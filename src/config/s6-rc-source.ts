/**
 * s6-rc source directories (`/etc/s6-overlay/s6-rc.d/NAME/`), read the way s6-rc-compile
 * reads them, into what warden runs: longruns become ServiceSpecs (their dir reads like any
 * s6 service dir), oneshots become OneshotSpecs, bundles are expanded into their members.
 * Only what the `user` and `user2` bundles want starts, with everything they depend on, as
 * under s6-overlay. Dependencies on s6-overlay's own services (`base`, `legacy-cont-init` …)
 * are met by warden's boot order and dropped. s6-overlay's order of the bundles is kept:
 * what only `user2` wants starts after everything `user` wants and after the services.d
 * services next to the s6-rc.d (s6-overlay starts user, then services.d, then user2).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ServiceSpec } from '../core/service-spec.js';
import { excerpt, problem, type ConfigProblem } from './config-problem.js';
import { classifyExecline, type ExeclineScript } from './execline-line.js';
import { describeError, isMissing, readSettingFile } from './read-setting.js';
import { loadServiceDir, type ServiceDefaults } from './service-dir.js';
import { serviceNameError } from './service-name.js';
import { parseMilliseconds } from './setting-files.js';

/** s6-overlay's default place for s6-rc source dirs. */
export const DEFAULT_S6_RC_DIR = '/etc/s6-overlay/s6-rc.d';

/** The bundles whose contents start at boot (s6-overlay's `user`, then `user2`). */
export const WANTED_BUNDLES = ['user', 'user2'] as const;

/**
 * s6-overlay's own services, defined inside s6-overlay, not in the image: `base` is what user
 * services depend on to start after cont-init.d; warden runs cont-init.d before any of them.
 */
export const OVERLAY_INTERNAL = new Set(['base', 'fix-attrs', 'legacy-cont-init', 'legacy-services', 's6rc-oneshot-runner', 's6rc-fdholder', 'top']);

/** One `up` or `down` file of a oneshot. */
export interface OneshotScript {
  /** Absolute path of the file (given to `execlineb -P` when it needs execline). */
  readonly file: string;
  readonly script: ExeclineScript;
}

/** An s6-rc oneshot: `up` runs once before its dependents start, `down` at shutdown. */
export interface OneshotSpec {
  readonly name: string;
  readonly dir: string;
  readonly up: OneshotScript;
  /** null when there is no `down` file. */
  readonly down: OneshotScript | null;
  /** ms `up` may run before it is killed and counts as failed; 0 = no limit (s6-rc `timeout-up`). */
  readonly timeoutUpMs: number;
  /** ms `down` may run; 0 = no limit (s6-rc `timeout-down`). */
  readonly timeoutDownMs: number;
  /** Atomic services (longruns or oneshots) that must be up (ready, or done) first. */
  readonly dependencies: readonly string[];
}

export interface S6RcSource {
  readonly longruns: ServiceSpec[];
  readonly oneshots: OneshotSpec[];
  readonly problems: ConfigProblem[];
  /** Things worth a line in the log that are not mistakes (e.g. a logger warden replaces). */
  readonly notes: string[];
  /**
   * s6-overlay starts the legacy services.d next to this s6-rc.d only once `user` is up: the
   * services of `dir` depend on `names` (what `user` brings up). Null when not an overlay tree.
   */
  readonly legacyAfter: { readonly dir: string; readonly names: readonly string[] } | null;
}

type Definition =
  | { readonly type: 'longrun'; readonly name: string; readonly dir: string; readonly deps: string[]; readonly spec: ServiceSpec; readonly consumerFor: string[] }
  | { readonly type: 'oneshot'; readonly name: string; readonly dir: string; readonly deps: string[]; readonly spec: OneshotSpec }
  | { readonly type: 'bundle'; readonly name: string; readonly dir: string; readonly contents: string[] };

const TYPES = ['longrun', 'oneshot', 'bundle'] as const;

/** Reads every NAME/ of `dir` (a missing dir is empty) and returns what the user bundles start. */
export async function loadS6RcSource(dir: string, defaults: ServiceDefaults): Promise<S6RcSource> {
  const root = resolve(dir);
  const problems: ConfigProblem[] = [];
  const notes: string[] = [];
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if (!isMissing(err)) problems.push(problem(root, describeError(err)));
    return { longruns: [], oneshots: [], problems, notes, legacyAfter: null };
  }

  const defs = new Map<string, Definition>();
  for (const name of names) {
    const def = await readDefinition(join(root, name), name, defaults, problems);
    if (def !== null) defs.set(name, def);
  }
  const siblings = overlaySiblings(root);
  if (siblings !== null) await addUserBundles(siblings.bundles, defs, defaults, problems, notes);

  // A name used but defined nowhere: s6-overlay's own are met by boot order; others are mistakes.
  const known = (name: string, by: string, file: string): boolean => {
    if (defs.has(name)) return true;
    if (!OVERLAY_INTERNAL.has(name)) problems.push(problem(file, `${by} names "${name}", which is not defined in ${root}`));
    return false;
  };

  const atoms = new Map<string, string[]>();
  const expand = (name: string, chain: readonly string[]): string[] => {
    const def = defs.get(name);
    if (def === undefined) return [];
    if (def.type !== 'bundle') return [name];
    if (chain.includes(name)) {
      problems.push(problem(def.dir, `bundle cycle: ${[...chain.slice(chain.indexOf(name)), name].join(' -> ')}`));
      return [];
    }
    const cached = atoms.get(name);
    if (cached) return cached;
    const out = new Set<string>();
    for (const member of def.contents) {
      if (!known(member, `bundle ${name}`, join(def.dir, 'contents.d', member))) continue;
      for (const atom of expand(member, [...chain, name])) out.add(atom);
    }
    const list = [...out].sort();
    atoms.set(name, list);
    return list;
  };

  const resolvedDeps = new Map<string, string[]>();
  for (const def of defs.values()) {
    if (def.type === 'bundle') continue;
    const out = new Set<string>();
    for (const dep of def.deps) {
      if (dep === def.name) {
        problems.push(problem(join(def.dir, 'dependencies.d', dep), `${def.name} depends on itself`));
        continue;
      }
      if (!known(dep, `${def.name}'s dependency`, join(def.dir, 'dependencies.d', dep))) continue;
      for (const atom of expand(dep, [])) out.add(atom);
    }
    resolvedDeps.set(def.name, [...out].sort());
  }

  // What each user bundle wants: its atoms and, transitively, everything they depend on.
  const closure = (bundle: string): Set<string> => {
    const wanted = new Set<string>();
    const want = (name: string): void => {
      if (wanted.has(name)) return;
      wanted.add(name);
      for (const dep of resolvedDeps.get(name) ?? []) want(dep);
    };
    const def = defs.get(bundle);
    if (def === undefined) return wanted;
    if (def.type !== 'bundle') {
      problems.push(problem(join(def.dir, 'type'), `"${bundle}" must be a bundle (s6-overlay starts its contents), not a ${def.type}`));
      return wanted;
    }
    for (const atom of expand(bundle, [])) want(atom);
    return wanted;
  };
  const [first, second] = WANTED_BUNDLES.map(closure) as [Set<string>, Set<string>];
  const wanted = new Set([...first, ...second]);
  // user2's own services come last: after user's, and after services.d (once they are up).
  const later = [...second].filter((name) => !first.has(name));
  const before = later.length === 0 ? [] : [...first, ...(siblings === null ? [] : await legacyServices(siblings.legacy))];
  const atomCount = [...defs.values()].filter((d) => d.type !== 'bundle').length;
  if (atomCount > 0 && !defs.has('user')) {
    notes.push(`${root} has no "user" bundle: none of its ${atomCount} services start (list them in ${join(root, 'user', 'contents.d')}/)`);
  }

  const longruns: ServiceSpec[] = [];
  const oneshots: OneshotSpec[] = [];
  for (const name of [...wanted].sort()) {
    const def = defs.get(name)!;
    const own = resolvedDeps.get(name) ?? [];
    const dependencies = later.includes(name) ? [...new Set([...own, ...before])].sort() : own;
    if (def.type === 'longrun') {
      if (def.consumerFor.length > 0) {
        // s6-rc pipes the producer's stdout into this logger; warden captures that output itself.
        notes.push(`${name} is the s6-rc logger of ${def.consumerFor.join(', ')}: not started, warden captures their output itself (WARDEN_LOG_DIR)`);
        continue;
      }
      // The `dependencies` file was read with dependencies.d/ (bundles expanded), so it replaces the spec's.
      longruns.push({ ...def.spec, dependencies });
    } else if (def.type === 'oneshot') {
      oneshots.push({ ...def.spec, dependencies });
    }
  }
  const started = new Set([...longruns, ...oneshots].map((u) => u.name));
  const legacyAfter = siblings === null ? null : { dir: siblings.legacy, names: [...first].filter((n) => started.has(n)).sort() };
  return { longruns, oneshots, problems, notes, legacyAfter };
}

/**
 * s6-overlay's places next to an s6-rc.d at `ETC/s6-overlay/s6-rc.d`: the user bundles'
 * `ETC/s6-overlay/user-bundles.d` (s6-overlay ≥ 3.2.3.1) and the legacy `ETC/services.d`.
 * Null for an s6-rc dir elsewhere (`--s6-rc DIR`).
 */
function overlaySiblings(root: string): { readonly bundles: string; readonly legacy: string } | null {
  if (basename(root) !== 's6-rc.d' || basename(dirname(root)) !== 's6-overlay') return null;
  const overlay = dirname(root);
  return { bundles: join(overlay, 'user-bundles.d'), legacy: join(dirname(overlay), 'services.d') };
}

/**
 * Adds the definitions of user-bundles.d (where s6-overlay ≥ 3.2.3.1 wants `user` and `user2`)
 * to those of s6-rc.d, as s6-overlay compiles both. As there, a `user` still defined in s6-rc.d
 * (the older place) means user-bundles.d is not read.
 */
async function addUserBundles(dir: string, defs: Map<string, Definition>, defaults: ServiceDefaults, problems: ConfigProblem[], notes: string[]): Promise<void> {
  if (!existsSync(dir)) return;
  if (defs.has('user')) {
    notes.push(`${dir} is not read: the user bundle is still defined in the s6-rc.d next to it (the place s6-overlay before 3.2.3.1 used), as s6-overlay does`);
    return;
  }
  for (const name of (await readdir(dir)).filter((n) => !n.startsWith('.')).sort()) {
    const def = await readDefinition(join(dir, name), name, defaults, problems);
    if (def === null) continue;
    if (defs.has(name)) problems.push(problem(def.dir, `"${name}" is defined twice: here and in ${defs.get(name)!.dir}`));
    else defs.set(name, def);
  }
}

/** The services.d services that start at boot: dirs with a run file and no down file. */
async function legacyServices(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return []; // No services.d: nothing to wait for. Its problems are reported where it is loaded.
  }
  return names.filter((n) => existsSync(join(dir, n, 'run')) && !existsSync(join(dir, n, 'down')));
}

async function readDefinition(dir: string, name: string, defaults: ServiceDefaults, problems: ConfigProblem[]): Promise<Definition | null> {
  try {
    if (!(await stat(dir)).isDirectory()) return null; // s6-rc-compile skips plain files too.
  } catch (err) {
    if (!isMissing(err)) problems.push(problem(dir, describeError(err)));
    return null;
  }
  const nameError = serviceNameError(name);
  if (nameError !== null) {
    problems.push(problem(dir, nameError));
    return null;
  }
  const typeFile = join(dir, 'type');
  const read = await readSettingFile(typeFile);
  if (read.kind === 'absent') {
    problems.push(problem(typeFile, 'missing: an s6-rc service needs a type file holding longrun, oneshot or bundle'));
    return null;
  }
  if (read.kind === 'problem') {
    problems.push(read.problem);
    return null;
  }
  const type = read.text.trim();
  if (!(TYPES as readonly string[]).includes(type)) {
    problems.push(problem(typeFile, `expected longrun, oneshot or bundle, got ${excerpt(type)}`, 1));
    return null;
  }
  switch (type as (typeof TYPES)[number]) {
    case 'bundle':
      return { type: 'bundle', name, dir, contents: await namesOf(dir, 'contents', problems) };
    case 'longrun': {
      const loaded = await loadServiceDir(dir, defaults);
      problems.push(...loaded.problems);
      if (loaded.spec === null) return null;
      const consumerFor = await namesOf(dir, 'consumer-for', problems, { dirToo: false });
      return { type: 'longrun', name, dir, deps: await namesOf(dir, 'dependencies', problems), spec: loaded.spec, consumerFor };
    }
    case 'oneshot': {
      const before = problems.length;
      const up = await oneshotScript(join(dir, 'up'), true, problems);
      const down = await oneshotScript(join(dir, 'down'), false, problems);
      const timeoutUpMs = await milliseconds(join(dir, 'timeout-up'), problems);
      const timeoutDownMs = await milliseconds(join(dir, 'timeout-down'), problems);
      const deps = await namesOf(dir, 'dependencies', problems);
      if (problems.length > before || up === null) return null;
      return { type: 'oneshot', name, dir, deps, spec: { name, dir, up, down, timeoutUpMs, timeoutDownMs, dependencies: [] } };
    }
  }
}

/**
 * The names listed by `NAME.d/` (one empty file per name, s6-rc ≥ 0.5) and the older `NAME`
 * file (one per line, `#` comments), merged.
 */
async function namesOf(dir: string, what: string, problems: ConfigProblem[], opts: { dirToo: boolean } = { dirToo: true }): Promise<string[]> {
  const out = new Set<string>();
  if (opts.dirToo) {
    const sub = join(dir, `${what}.d`);
    try {
      for (const n of await readdir(sub)) if (!n.startsWith('.')) out.add(n);
    } catch (err) {
      if (!isMissing(err)) problems.push(problem(sub, describeError(err)));
    }
  }
  const read = await readSettingFile(join(dir, what));
  if (read.kind === 'problem') problems.push(read.problem);
  if (read.kind === 'text') {
    for (const line of read.text.split('\n')) {
      const n = line.replace(/#.*/, '').trim();
      if (n !== '') out.add(n);
    }
  }
  return [...out].sort();
}

async function oneshotScript(file: string, required: boolean, problems: ConfigProblem[]): Promise<OneshotScript | null> {
  const read = await readSettingFile(file);
  if (read.kind === 'absent') {
    if (required) problems.push(problem(file, 'missing: a oneshot needs an up file (a command line, run as an execline script)'));
    return null;
  }
  if (read.kind === 'problem') {
    problems.push(read.problem);
    return null;
  }
  const script = classifyExecline(read.text);
  if (script.kind === 'error') {
    problems.push(problem(file, `cannot read it as an execline command line: ${script.message}`));
    return null;
  }
  return { file, script };
}

async function milliseconds(file: string, problems: ConfigProblem[]): Promise<number> {
  const read = await readSettingFile(file);
  if (read.kind === 'absent') return 0;
  if (read.kind === 'problem') {
    problems.push(read.problem);
    return 0;
  }
  const parsed = parseMilliseconds(file, read.text, 10000);
  if (parsed.ok) return parsed.value;
  problems.push(...parsed.problems);
  return 0;
}
