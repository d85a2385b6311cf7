/**
 * Starts CMD in a process group of its own, with every signal at its default and none blocked,
 * optionally as the terminal's foreground group: what tini does between fork and exec.
 *
 * Node's child_process cannot: `detached` is setsid (a new session, which loses the terminal),
 * and there is no setpgid. posix_spawn can (POSIX_SPAWN_SETPGROUP), and since glibc 2.35 it can
 * also make the new group the terminal's foreground in the child, before exec, so CMD never
 * reads the terminal from the background. Elsewhere (musl, older glibc) warden sets the
 * foreground right after the spawn and wakes CMD if it was stopped by reading too early.
 *
 * A child started here is not Node's: warden's reaper reaps it (it is not in the Launcher's set).
 */
import { libcCalls } from './koffi-lazy.js';
import { readStat } from './process-tree.js';
import { setForeground, type Terminal } from './terminal.js';
import { sendSignal } from './signals.js';

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** Larger than posix_spawnattr_t, posix_spawn_file_actions_t and sigset_t on glibc and musl. */
const OPAQUE_BYTES = 1024;
const SIGSET_BYTES = 128;

type Calls = {
  posix_spawnp: (pid: [number], file: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]) => number;
  attrInit: (attr: Buffer) => number;
  attrDestroy: (attr: Buffer) => number;
  setflags: (attr: Buffer, flags: number) => number;
  setpgroup: (attr: Buffer, pgroup: number) => number;
  setsigmask: (attr: Buffer, set: Buffer) => number;
  setsigdefault: (attr: Buffer, set: Buffer) => number;
  actionsInit: (actions: Buffer) => number;
  actionsDestroy: (actions: Buffer) => number;
  adddup2: (actions: Buffer, fd: number, newfd: number) => number;
  /** glibc ≥ 2.35 only. */
  addTcsetpgrp: ((actions: Buffer, fd: number) => number) | null;
  sigemptyset: (set: Buffer) => number;
  sigfillset: (set: Buffer) => number;
  strerror: (errnum: number) => string;
};

/** Not in every C library (glibc ≥ 2.35 only): null where missing, and the parent sets the foreground. */
function optionalFunc<F>(lib: { func(decl: string): unknown }, decl: string): F | null {
  try {
    return lib.func(decl) as F;
  } catch {
    return null;
  }
}

const load = libcCalls(
  (lib): Calls => ({
    posix_spawnp: lib.func(
      'int posix_spawnp(_Out_ int *pid, const char *file, const void *actions, const void *attr, const char **argv, const char **envp)',
    ) as Calls['posix_spawnp'],
    attrInit: lib.func('int posix_spawnattr_init(void *attr)') as Calls['attrInit'],
    attrDestroy: lib.func('int posix_spawnattr_destroy(void *attr)') as Calls['attrDestroy'],
    setflags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)') as Calls['setflags'],
    setpgroup: lib.func('int posix_spawnattr_setpgroup(void *attr, int pgroup)') as Calls['setpgroup'],
    setsigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const void *set)') as Calls['setsigmask'],
    setsigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)') as Calls['setsigdefault'],
    actionsInit: lib.func('int posix_spawn_file_actions_init(void *actions)') as Calls['actionsInit'],
    actionsDestroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)') as Calls['actionsDestroy'],
    adddup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)') as Calls['adddup2'],
    addTcsetpgrp: optionalFunc(lib, 'int posix_spawn_file_actions_addtcsetpgrp_np(void *actions, int fd)'),
    sigemptyset: lib.func('int sigemptyset(void *set)') as Calls['sigemptyset'],
    sigfillset: lib.func('int sigfillset(void *set)') as Calls['sigfillset'],
    strerror: lib.func('const char *strerror(int errnum)') as Calls['strerror'],
  }),
);

export interface GroupSpawnRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Make CMD's group the foreground group of this terminal. */
  readonly terminal: Terminal | null;
}

export type GroupSpawnResult =
  | { readonly ok: true; readonly pid: number }
  /** `code`: what a shell exits with for this failure (127 not found, 126 found but cannot be run). */
  | { readonly ok: false; readonly error: string; readonly code: number };

const ENOENT = 2;

/** Spawns `file` (searched in PATH) in a new process group whose id is its pid. */
export function spawnInOwnGroup(req: GroupSpawnRequest): GroupSpawnResult {
  const c = load();
  const attr = Buffer.alloc(OPAQUE_BYTES);
  const actions = Buffer.alloc(OPAQUE_BYTES);
  const none = Buffer.alloc(SIGSET_BYTES);
  const all = Buffer.alloc(SIGSET_BYTES);
  c.sigemptyset(none);
  c.sigfillset(all);
  // sigfillset leaves out the C library's own 32 and 33, and glibc's posix_spawn then starts
  // CMD with them ignored: set their bits by hand so CMD gets them at their default too.
  all[3]! |= 0x80;
  all[4]! |= 0x01;
  c.attrInit(attr);
  c.actionsInit(actions);
  try {
    // Every signal at its default and none blocked: warden's own handlers, its ignored SIGPIPE
    // and its blocked SIGTTIN/SIGTTOU must not reach CMD.
    c.setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    c.setpgroup(attr, 0);
    c.setsigmask(attr, none);
    c.setsigdefault(attr, all);
    // Node opens stdin, stdout and stderr close-on-exec; dup2 onto itself clears that flag
    // (POSIX 2024, glibc and musl), so CMD gets the container's own three.
    for (const fd of [0, 1, 2]) c.adddup2(actions, fd, fd);
    const inChild = req.terminal !== null && c.addTcsetpgrp !== null && c.addTcsetpgrp(actions, req.terminal.fd) === 0;
    const pid: [number] = [0];
    const envp = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
    const err = c.posix_spawnp(pid, req.file, actions, attr, [req.file, ...req.args, null], [...envp, null]);
    if (err !== 0) {
      const code = err === ENOENT ? 127 : 126;
      return { ok: false, error: `cannot run ${req.file}: ${c.strerror(err)}`, code };
    }
    if (req.terminal !== null && !inChild) foregroundFromParent(req.terminal, pid[0]);
    return { ok: true, pid: pid[0] };
  } finally {
    c.actionsDestroy(actions);
    c.attrDestroy(attr);
  }
}

/** Without posix_spawn's tcsetpgrp: set it now, and wake CMD if it already stopped on the terminal. */
function foregroundFromParent(terminal: Terminal, pid: number): void {
  setForeground(terminal, pid);
  if (readStat(pid)?.state === 'T') sendSignal(-pid, 'SIGCONT');
}
