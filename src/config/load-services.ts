import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ServiceSpec } from '../core/service-spec.js';
import { problem, type ConfigProblem, type InvalidUnit } from './config-problem.js';
import { describeError, isMissing } from './read-setting.js';
import { loadServiceDir, type ServiceDefaults } from './service-dir.js';

export { loadServiceDir, type ServiceDefaults } from './service-dir.js';

export interface LoadResult {
  readonly services: ServiceSpec[];
  readonly problems: ConfigProblem[];
  /** The services whose dirs did not load, with their problems. */
  readonly invalid: InvalidUnit[];
}

/** The service directories directly below `dir`, sorted; a missing `dir` has none. */
async function serviceEntries(dir: string, problems: ConfigProblem[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isMissing(err) && (await isNonDirectory(dir))) {
      problems.push(problem(dir, 'is not a directory: expected a directory of service directories'));
      return [];
    }
    // Missing dirs are normal: the default search path names several that may not exist.
    if (isMissing(err)) return [];
    problems.push(problem(dir, describeError(err)));
    return [];
  }
  const found: string[] = [];
  for (const name of [...names].sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    try {
      // stat, not the dirent type: s6 scan dirs usually hold symlinks to service dirs.
      if ((await stat(path)).isDirectory()) found.push(path);
    } catch (err) {
      if (!isMissing(err)) problems.push(problem(path, describeError(err)));
    }
  }
  return found;
}

async function isNonDirectory(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads every NAME/ below each of `dirs` (dirs that do not exist are skipped silently; a later
 * dir's service with the same name is a problem naming both paths, the first one wins).
 * A service with any problem is reported and left out (in `invalid`); the others load. Sorted by name.
 */
export async function loadServiceDirs(dirs: readonly string[], defaults: ServiceDefaults): Promise<LoadResult> {
  const problems: ConfigProblem[] = [];
  const chosen = new Map<string, string>();
  for (const dir of dirs) {
    const abs = resolve(dir);
    for (const path of await serviceEntries(abs, problems)) {
      const name = basename(path);
      const first = chosen.get(name);
      if (first === undefined) {
        chosen.set(name, path);
      } else {
        problems.push(problem(path, `service "${name}" is already defined by ${first}; that one is used and this one is ignored`));
      }
    }
  }
  const paths = [...chosen.values()];
  const loaded = await mapBounded(paths, LOAD_CONCURRENCY, (path) => loadServiceDir(path, defaults));
  const services: ServiceSpec[] = [];
  const invalid: InvalidUnit[] = [];
  loaded.forEach((r, i) => {
    problems.push(...r.problems);
    if (r.spec !== null) services.push(r.spec);
    else invalid.push({ name: basename(paths[i]!), dir: paths[i]!, problems: r.problems });
  });
  services.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { services, problems, invalid };
}

/**
 * Service dirs read at once. libuv's threadpool runs 4 fs calls at a time, so more in flight
 * only queue up; and with all of 1 000 dirs in flight, every half-read dir's promises and
 * buffers outlived the young generation and were promoted: ~40 MB of old-space garbage that
 * PID 1's RSS kept long after the scan.
 */
const LOAD_CONCURRENCY = 8;

/** `items.map(fn)`, awaited, with at most `limit` calls in flight; results in `items`' order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
