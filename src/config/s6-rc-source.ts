/**
 * One s6-rc source dir (`/etc/s6-overlay/s6-rc.d`, a user-bundles.d, s6-overlay's own sources
 * dir), read the way s6-rc-compile reads it: each `NAME/` with a `type` defines a unit; a
 * `NAME/` without one is a fragment that adds dependencies or contents to the unit of that
 * name defined elsewhere (an image layer that ships only `NAME/dependencies.d/X`). Names are
 * resolved later, over every dir at once (config/load-units).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceSpec } from '../core/service-spec.js';
import type { NameRef, UnitDef } from '../core/unit-set.js';
import { reservedName } from '../core/unit-set.js';
import { excerpt, problem, type ConfigProblem } from './config-problem.js';
import { classifyExecline, type ExeclineScript } from './execline-line.js';
import { describeError, isMissing, readSettingFile } from './read-setting.js';
import { knownFiles, loadServiceDir, nearMissProblems, type ServiceDefaults } from './service-dir.js';
import { serviceNameError } from './service-name.js';
import { parseMilliseconds } from './setting-files.js';

/** s6-overlay's default place for s6-rc source dirs. */
export const DEFAULT_S6_RC_DIR = '/etc/s6-overlay/s6-rc.d';

/** One `up` or `down` file of a oneshot. */
export interface OneshotScript {
  /** Absolute path of the file (given to `execlineb -P` when it needs execline). */
  readonly file: string;
  readonly script: ExeclineScript;
}

/**
 * What a oneshot does: the image's `up`/`down` scripts, or one of s6-overlay's own oneshots,
 * which warden carries out itself (fix-attrs.d; cont-init.d up and cont-finish.d down; starting
 * the services.d services).
 */
export type OneshotAction =
  | { readonly kind: 'script'; readonly up: OneshotScript; readonly down: OneshotScript | null }
  | { readonly kind: 'fix-attrs' }
  | { readonly kind: 'cont-init' }
  | { readonly kind: 'legacy-services' };

/** An s6-rc oneshot: `up` runs once before its dependents start, `down` at shutdown. */
export interface OneshotSpec {
  readonly name: string;
  readonly dir: string;
  readonly action: OneshotAction;
  /** ms `up` may run before it is killed and counts as failed; 0 = no limit (s6-rc `timeout-up`). */
  readonly timeoutUpMs: number;
  /** ms `down` may run; 0 = no limit (s6-rc `timeout-down`). */
  readonly timeoutDownMs: number;
  /** Atomic services (longruns or oneshots) that must be up (ready, or done) first. */
  readonly dependencies: readonly string[];
}

/** Does the oneshot do anything when it goes down? */
export function hasDown(spec: OneshotSpec): boolean {
  return spec.action.kind === 'cont-init' || (spec.action.kind === 'script' && spec.action.down !== null);
}

/** One entry of a source dir. */
export type SourceEntry =
  | { readonly kind: 'longrun'; readonly def: Extract<UnitDef, { kind: 'longrun' }>; readonly spec: ServiceSpec }
  | { readonly kind: 'oneshot'; readonly def: Extract<UnitDef, { kind: 'oneshot' }>; readonly spec: OneshotSpec }
  | { readonly kind: 'bundle'; readonly def: Extract<UnitDef, { kind: 'bundle' }> }
  /** Defined, but with problems (reported): it is a name others may use, and it cannot start. */
  | { readonly kind: 'invalid'; readonly def: UnitDef }
  /** No type file: what it adds to the unit of that name. */
  | { readonly kind: 'fragment'; readonly name: string; readonly dir: string; readonly deps: readonly NameRef[]; readonly contents: readonly NameRef[] };

export interface SourceDir {
  readonly entries: readonly SourceEntry[];
  readonly problems: ConfigProblem[];
  /** False when the dir does not exist. */
  readonly exists: boolean;
}

const TYPES = ['longrun', 'oneshot', 'bundle'] as const;

/** Reads every NAME/ of `dir`; a dir that does not exist has none. */
export async function readSourceDir(dir: string, defaults: ServiceDefaults): Promise<SourceDir> {
  const problems: ConfigProblem[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if (!isMissing(err)) problems.push(problem(dir, describeError(err)));
    return { entries: [], problems, exists: false };
  }
  const entries: SourceEntry[] = [];
  for (const name of names) {
    const entry = await readEntry(join(dir, name), name, defaults, problems);
    if (entry !== null) entries.push(entry);
  }
  return { entries, problems, exists: true };
}

/** Is `dir` an s6-rc source dir given plainly: a dir whose entries have type files? */
export async function looksLikeSourceDir(dir: string): Promise<boolean> {
  try {
    for (const name of await readdir(dir)) {
      if ((await readSettingFile(join(dir, name, 'type'))).kind === 'text') return true;
    }
  } catch {
    return false;
  }
  return false;
}

async function readEntry(dir: string, name: string, defaults: ServiceDefaults, problems: ConfigProblem[]): Promise<SourceEntry | null> {
  try {
    if (!(await stat(dir)).isDirectory()) return null; // s6-rc-compile skips plain files too.
  } catch (err) {
    if (!isMissing(err)) problems.push(problem(dir, describeError(err)));
    return null;
  }
  const nameError = serviceNameError(name) ?? (reservedName(name) ? `the names s6rc-… and s6-rc-… are s6-rc's own` : null);
  if (nameError !== null) {
    problems.push(problem(dir, nameError));
    return null;
  }
  const typeFile = join(dir, 'type');
  const read = await readSettingFile(typeFile);
  if (read.kind === 'problem') {
    problems.push(read.problem);
    return null;
  }
  const deps = await namesOf(dir, 'dependencies', problems);
  if (read.kind === 'absent') return { kind: 'fragment', name, dir, deps, contents: await namesOf(dir, 'contents', problems) };
  // s6-rc-compile wants the word and at most a newline; trailing blanks are forgiven here.
  const type = read.text.trimEnd();
  if (!(TYPES as readonly string[]).includes(type)) {
    problems.push(problem(typeFile, `expected longrun, oneshot or bundle, got ${excerpt(type)}`, 1));
    return { kind: 'invalid', def: { kind: 'oneshot', name, dir, deps } };
  }
  switch (type as (typeof TYPES)[number]) {
    case 'bundle': {
      problems.push(...nearMissProblems(dir, await readdir(dir), ['type', 'contents.d', 'contents', 'flag-essential', 'flag-recommended']));
      return { kind: 'bundle', def: { kind: 'bundle', name, dir, contents: await namesOf(dir, 'contents', problems) } };
    }
    case 'longrun': {
      const loaded = await loadServiceDir(dir, defaults, 's6-rc');
      problems.push(...loaded.problems);
      const producer = await namesOf(dir, 'producer-for', problems, false);
      const pipelineName = await namesOf(dir, 'pipeline-name', problems, false);
      if (producer.length > 1) problems.push(problem(join(dir, 'producer-for'), 'expected one service name: a producer feeds one consumer'));
      const def: Extract<UnitDef, { kind: 'longrun' }> = {
        kind: 'longrun',
        name,
        dir,
        deps,
        producerFor: producer[0] ?? null,
        consumerFor: await namesOf(dir, 'consumer-for', problems, false),
        pipelineName: pipelineName[0] ?? null,
      };
      return loaded.spec === null ? { kind: 'invalid', def } : { kind: 'longrun', def, spec: loaded.spec };
    }
    case 'oneshot': {
      const before = problems.length;
      problems.push(...nearMissProblems(dir, await readdir(dir), knownFiles('s6-rc')));
      const up = await oneshotScript(join(dir, 'up'), true, problems);
      const down = await oneshotScript(join(dir, 'down'), false, problems);
      const timeoutUpMs = await milliseconds(join(dir, 'timeout-up'), problems);
      const timeoutDownMs = await milliseconds(join(dir, 'timeout-down'), problems);
      const def: Extract<UnitDef, { kind: 'oneshot' }> = { kind: 'oneshot', name, dir, deps };
      if (problems.length > before || up === null) return { kind: 'invalid', def };
      return {
        kind: 'oneshot',
        def,
        spec: { name, dir, action: { kind: 'script', up, down }, timeoutUpMs, timeoutDownMs, dependencies: [] },
      };
    }
  }
}

/**
 * The names `NAME.d/` lists (one entry per name), or, when there is no such dir, the older
 * `NAME` file (one per line, `#` comments), as s6-rc-compile reads them: the dir wins.
 */
async function namesOf(dir: string, what: string, problems: ConfigProblem[], dirToo = true): Promise<NameRef[]> {
  if (dirToo) {
    const sub = join(dir, `${what}.d`);
    try {
      return (await readdir(sub))
        .filter((n) => !n.startsWith('.'))
        .sort()
        .map((n) => ({ name: n, file: join(sub, n) }));
    } catch (err) {
      if (!isMissing(err)) {
        problems.push(problem(sub, describeError(err)));
        return [];
      }
    }
  }
  const file = join(dir, what);
  const read = await readSettingFile(file);
  if (read.kind === 'problem') problems.push(read.problem);
  if (read.kind !== 'text') return [];
  const out: NameRef[] = [];
  for (const line of read.text.split('\n')) {
    const n = line.trim();
    if (n !== '' && !n.startsWith('#') && !out.some((r) => r.name === n)) out.push({ name: n, file });
  }
  return out;
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
