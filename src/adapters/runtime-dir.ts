/**
 * Where warden keeps its runtime files (control socket, container environment, notify sockets),
 * chosen the way s6-overlay and systemd choose: the configured dir when warden may write there,
 * else `$XDG_RUNTIME_DIR/warden`, else a private dir (0700) of its own uid under the tmp dir.
 * As PID 1 there is one warden per container and the dir is shared by name; as a sub-init on a
 * host, a dir not named by WARDEN_RUN_DIR gets one subdir per instance (its pid), so two wardens
 * never read each other's files. The CLI looks in the same places (`findSocket`).
 */
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RUN_DIR, SOCKET_NAME } from '../protocol/socket-path.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface RunDirChoice {
  readonly dir: string;
  /** Set when the configured dir could not be used: which, and why (an errno code). */
  readonly fellBack: { readonly from: string; readonly reason: string } | null;
}

/** The code of a failed fs call (EACCES, EROFS …), or its message. */
function reasonOf(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
}

/** Makes `dir` (and its parents) if needed and checks that warden may create files in it; null when it may. */
export function unusableReason(dir: string, mode = 0o755): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode });
    accessSync(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    // A recursive mkdir under a read-only or foreign parent may say ENOENT: ask for the last
    // component alone, whose error names the real reason (EROFS, EACCES).
    if (reasonOf(err) !== 'ENOENT') return reasonOf(err);
    try {
      mkdirSync(dir, { mode });
      return 'ENOENT';
    } catch (again) {
      return reasonOf(again);
    }
  }
}

/**
 * A dir only `uid` may enter (0700), refused when it is not a real dir of that uid: under a
 * shared tmp dir, another user could have made it first, or left a symlink there.
 */
function privateDir(dir: string, uid: number): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) return 'ENOTDIR';
    if (st.uid !== uid) return `owned by uid ${st.uid}`;
    chmodSync(dir, 0o700);
    return null;
  } catch (err) {
    return reasonOf(err);
  }
}

/**
 * The dirs warden may use, in order of preference: configured, XDG, private tmp. One at a time:
 * the CLI mostly finds its warden in the first, and node:os (for the tmp dir) is a module more
 * for `warden health`, which a probe runs every few seconds.
 */
function* baseDirs(env: Env, uid: number): Generator<string> {
  yield env.WARDEN_RUN_DIR || DEFAULT_RUN_DIR;
  if (env.XDG_RUNTIME_DIR) yield join(env.XDG_RUNTIME_DIR, 'warden');
  yield join(process.getBuiltinModule('node:os').tmpdir(), `warden-${uid}`);
}

/** Chooses (and makes) warden's runtime dir; `pid1` false gives a dir per instance unless WARDEN_RUN_DIR names one. */
export function chooseRunDir(env: Env, opts: { readonly uid: number; readonly pid1: boolean; readonly pid: number }): RunDirChoice {
  const explicit = Boolean(env.WARDEN_RUN_DIR);
  const instance = (base: string): string => (opts.pid1 || explicit ? base : join(base, String(opts.pid)));
  const [configured, ...others] = baseDirs(env, opts.uid);
  const first = unusableReason(instance(configured!));
  if (first === null) return { dir: instance(configured!), fellBack: null };
  for (const base of others) {
    const isPrivate = base === others.at(-1);
    const reason = isPrivate ? privateDir(base, opts.uid) ?? unusableReason(instance(base), 0o700) : unusableReason(instance(base), 0o700);
    // Only the dir of this instance, not the whole base, is per instance.
    if (reason === null) return { dir: instance(base), fellBack: { from: configured!, reason: first } };
  }
  // Nothing writable at all: keep the configured dir; each feature says what it could not do.
  return { dir: instance(configured!), fellBack: null };
}

/**
 * Where the CLI finds a warden of its own uid, the first of: `WARDEN_SOCKET`; else in each dir
 * chooseRunDir may pick, its control.sock (a PID 1's, or the one WARDEN_RUN_DIR names) and then
 * the sockets of sub-init instances (`DIR/PID/control.sock`). Only a path that is a socket now;
 * null when there is none.
 */
export function findSocket(env: Env, uid: number): string | null {
  if (env.WARDEN_SOCKET) return env.WARDEN_SOCKET;
  for (const base of baseDirs(env, uid)) {
    const direct = join(base, SOCKET_NAME);
    if (isSocket(direct)) return direct;
    if (env.WARDEN_RUN_DIR && base === env.WARDEN_RUN_DIR) continue;
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    // A sub-init removes its dir at exit; one killed left it: its pid no longer runs.
    const instance = names.find((name) => /^\d+$/.test(name) && isAlive(Number(name)) && isSocket(join(base, name, SOCKET_NAME)));
    if (instance !== undefined) return join(base, instance, SOCKET_NAME);
  }
  return null;
}

/** A socket this process may connect to (connecting needs write permission on it). */
function isSocket(path: string): boolean {
  try {
    if (!lstatSync(path).isSocket()) return false;
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
