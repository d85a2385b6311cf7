/**
 * The files s6-overlay's users rely on at run time, written at boot: the container environment
 * (one file per variable, read by `with-contenv`), the results dir whose `exitcode` file sets
 * the container's exit code, and `/run/s6/basedir/bin/halt`, which finish scripts call to stop
 * the container. Every write is best effort: a read-only or missing /run costs these features,
 * never the boot.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFile as writeFileCallback } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../adapters/logger.js';
import type { UnitSet } from '../core/unit-set.js';

/** s6-overlay's fixed locations. */
export const S6_CONTAINER_ENV_DIR = '/run/s6/container_environment';
export const S6_RESULTS_DIR = '/run/s6-linux-init-container-results';
export const S6_EXITCODE_FILE = join(S6_RESULTS_DIR, 'exitcode');
export const S6_HALT = '/run/s6/basedir/bin/halt';
/** Where s6-overlay's scripts find a service by name: `s6-svc -u /run/service/NAME`. */
export const S6_SERVICE_DIR = '/run/service';

/** Paths whose failure was logged: each is said once, not at every rescan. */
const reported = new Set<string>();

/** One line, not a stack trace, for a runtime file that cannot be written: the reason and what goes without it. */
function runtimeFileFailed(logger: Logger, what: string, path: string, err: unknown, without: string): void {
  if (reported.has(path)) return;
  reported.add(path);
  const reason = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
  const uid = process.getuid?.() ?? 0;
  logger.warn({ event: 'runtime-file-failed', what, path, reason, uid }, `cannot write ${what} at ${path} (${reason}, as uid ${uid}): ${without}`);
}

/** A variable name that can be a file name and an environment variable (s6-envdir skips the rest). */
function storable(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !name.includes('/') && !name.includes('=');
}

/**
 * Replaces `dir` with one file per variable of `env`, each holding the value (s6-dumpenv's format).
 * The files are written on libuv's threadpool, up to 64 at a time per dir (s6-overlay's paths
 * add a second dir, written alongside): creating 35-70 small files on a disk takes 2-10 ms, time
 * the main thread spends loading what boot needs next (Init.boot awaits the writes only before
 * the first script or service starts).
 */
export async function writeEnvDir(dir: string, env: Readonly<Record<string, string>>): Promise<void> {
  // A stale dir (the previous boot's, or an image built with /run in a layer) would leak old
  // variables. It is renamed aside, one metadata write, and removed once the services run
  // (removeStaleEnvDirs): unlinking its files here cost 2-17 ms of boot on a busy disk.
  try {
    renameSync(dir, `${dir}${STALE_SUFFIX}${process.pid}-${Date.now().toString(36)}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') rmSync(dir, { recursive: true, force: true });
  }
  // The environment holds the container's secrets: only warden's own user may read it (its
  // parents, made here if missing, stay 0755 for the runtime files others may use).
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  // A storable name is one plain path component: `dir/name` needs no path.join (and its normalize)
  // per variable, of which npm and CI environments hold hundreds.
  const names = Object.keys(env).filter(storable);
  let next = 0;
  let failure: NodeJS.ErrnoException | null = null;
  // Lanes, each writing one file after another. A usual environment (under 64 variables) is
  // queued whole at once, so the threadpool works on while the main thread is busy loading (a
  // lane's next file waits for the main thread); and thousands of variables never hold thousands
  // of fds open at once. fs's callbacks, not fs/promises: half the main thread's work per file.
  // A lane stops at its first error; the others finish their files.
  const lane = (): Promise<void> =>
    new Promise((resolve) => {
      const step = (err: NodeJS.ErrnoException | null): void => {
        failure ??= err;
        if (err !== null || next >= names.length) return resolve();
        const name = names[next++]!;
        writeFileCallback(`${dir}/${name}`, env[name]!, { mode: 0o600 }, step);
      };
      step(null);
    });
  await Promise.all(Array.from({ length: Math.min(ENV_WRITE_LANES, names.length) }, lane));
  if (failure !== null) throw failure;
}

/** Files of one container environment dir written at a time (8 measured ~4 ms slower boot). */
const ENV_WRITE_LANES = 64;

const STALE_SUFFIX = '.stale-';

/**
 * Removes every old copy of `dirs` that writeEnvDir moved aside (this boot's or an earlier one's);
 * never fails. Synchronous: a warden stopped right after its boot (a quick restart loop) must not
 * leave its copy behind for the next one.
 */
export function removeStaleEnvDirs(dirs: readonly string[]): void {
  for (const dir of dirs) {
    const prefix = `${basename(dir)}${STALE_SUFFIX}`;
    let names: string[];
    try {
      names = readdirSync(dirname(dir));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.startsWith(prefix))) {
      try {
        rmSync(join(dirname(dir), name), { recursive: true, force: true });
      } catch {
        // Not ours to remove after all (read-only /run): it only takes a little room.
      }
    }
  }
}

/** The container environment dirs that prepareOverlayRuntime writes. */
export function envDirs(runDir: string, s6Runtime: boolean): string[] {
  return [join(runDir, 'container_environment'), ...(s6Runtime ? [S6_CONTAINER_ENV_DIR] : [])];
}

export interface OverlayRuntimeOptions {
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string>>;
  /** WARDEN_RUN_DIR: its container_environment/ is always written. */
  readonly runDir: string;
  /** Also write s6-overlay's own paths under /run. */
  readonly s6Runtime: boolean;
  /** The argv that runs `warden` (node and its main script), for the halt shim. */
  readonly wardenArgv: readonly string[];
  readonly socketPath: string;
}

/**
 * Writes the container environment and s6-overlay's runtime files; what cannot be written is
 * one log line each (the reason, e.g. EACCES when warden runs as a non-root user and /run is
 * root's), not a stack trace: the rest of the boot goes on without it. Resolves with the mtime
 * of the exitcode file it wrote (null if none): a file with another mtime at the end was
 * written by a script, which chose the container's code.
 */
export async function prepareOverlayRuntime(opts: OverlayRuntimeOptions): Promise<number | null> {
  const failed = (what: string, path: string, err: unknown, without: string): void => runtimeFileFailed(opts.logger, what, path, err, without);
  const [own, ...s6] = envDirs(opts.runDir, opts.s6Runtime);
  await Promise.all([
    writeEnvDir(own!, opts.env).catch((err: unknown) => failed('the container environment', own!, err, 'with-contenv runs programs with the environment they were given')),
    ...s6.map((dir) => writeEnvDir(dir, opts.env).catch((err: unknown) => failed("s6-overlay's container environment", dir, err, `with-contenv reads ${own} instead`))),
  ]);
  if (!opts.s6Runtime) return null;
  let stamp: number | null = null;
  try {
    await mkdir(S6_RESULTS_DIR, { recursive: true, mode: 0o755 });
    // As s6-linux-init: the file holds 0 from the start (finish scripts read it before writing).
    await writeFile(S6_EXITCODE_FILE, '0\n', { mode: 0o644 });
    stamp = (await stat(S6_EXITCODE_FILE)).mtimeMs;
  } catch (err) {
    failed("s6-overlay's results dir", S6_RESULTS_DIR, err, 'scripts cannot set the exit code through its exitcode file');
  }
  try {
    await mkdir(join(S6_HALT, '..'), { recursive: true, mode: 0o755 });
    const argv = opts.wardenArgv.map(shellQuote).join(' ');
    await writeFile(S6_HALT, `#!/bin/sh\n# s6-overlay's halt, on warden: stop the container; the exit code comes from ${S6_EXITCODE_FILE}.\nWARDEN_SOCKET=${shellQuote(opts.socketPath)} exec ${argv} halt\n`, { mode: 0o755 });
    await chmod(S6_HALT, 0o755);
  } catch (err) {
    failed("s6-overlay's halt command", S6_HALT, err, 'finish scripts can run `warden halt` instead');
  }
  return stamp;
}

/**
 * The code a script left in the exitcode file: a whole number 0–255 on its first line, else null;
 * null too while the file is as warden wrote it at boot (`stamp`, its mtime then).
 */
export async function readExitCodeFile(stamp: number | null, file = S6_EXITCODE_FILE): Promise<number | null> {
  let text: string;
  try {
    if (stamp !== null && (await stat(file)).mtimeMs === stamp) return null;
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n', 1)[0]!.trim();
  if (!/^\d+$/.test(line)) return null;
  const code = Number(line);
  return code <= 255 ? code : null;
}

/** Records CMD's exit code where s6-overlay does, so cont-finish.d scripts can read (or change) it. */
export async function writeExitCodeFile(code: number, file = S6_EXITCODE_FILE): Promise<void> {
  await writeFile(file, `${code}\n`).catch(() => undefined);
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Writes the resolved unit set to `RUNDIR/units.json` for the `s6-rc` shim: each bundle's atoms,
 * each atom's kind and dependencies, and what boot brings up. Rewritten at every scan.
 */
export async function writeUnitsFile(runDir: string, set: UnitSet, logger: Logger): Promise<void> {
  const file = join(runDir, 'units.json');
  const units = {
    bundles: Object.fromEntries(set.bundles),
    atoms: Object.fromEntries([...set.atoms].map(([name, atom]) => [name, { kind: atom.kind, deps: atom.deps }])),
    wanted: set.wanted,
  };
  try {
    await mkdir(runDir, { recursive: true });
    await writeFile(`${file}.new`, `${JSON.stringify(units)}\n`, { mode: 0o644 });
    renameSync(`${file}.new`, file);
  } catch (err) {
    logger.warn({ event: 'runtime-file-failed', what: 'the unit set', path: file, err }, `cannot write ${file}`);
  }
}
