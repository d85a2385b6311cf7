/**
 * The files s6-supervise keeps for a service, kept by warden so s6's own tools work on its
 * services: `supervise/lock` (held with the kind of lock s6-svok tests), the `supervise/control`
 * FIFO (read here, obeyed by the daemon), `supervise/status` and `supervise/death_tally` (written
 * whole, then renamed, as s6 does), and the `event/` fifodir whose listeners get each event.
 * Synchronous: a few small writes on a tmpfs per state change, in the order s6 makes them (the
 * status first, then the event), which a reader woken by the event relies on.
 */
import { chmodSync, chownSync, closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { koffi, libcCalls } from './koffi-lazy.js';

/** struct flock on the 64-bit Linux ABIs warden runs on (x86-64, arm64): 32 bytes, little-endian. */
const FLOCK_BYTES = 32;
const F_SETLK = 6;
const F_WRLCK = 1;

type Calls = {
  mkfifo: (path: string, mode: number) => number;
  // fcntl is variadic; its three-argument form with a pointer is call-compatible on x86-64 and arm64.
  fcntl: (fd: number, cmd: number, lock: Buffer) => number;
};

const load = libcCalls(
  (lib): Calls => ({
    mkfifo: lib.func('int mkfifo(const char *path, unsigned int mode)') as Calls['mkfifo'],
    fcntl: lib.func('int fcntl(int fd, int cmd, void *lock)') as Calls['fcntl'],
  }),
);

function errnoError(what: string, path: string): Error {
  const errno = koffi().errno();
  const name = Object.entries(koffi().os.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
  return Object.assign(new Error(`${what} ${path}: ${name}`), { code: name });
}

/**
 * Takes a non-blocking POSIX write lock on all of `fd`'s file (skalibs' fd_lock): false when
 * another process holds one. A POSIX lock, not flock(2): s6-svok asks with F_GETLK, which sees
 * only these. It lasts until this process closes any fd of that file.
 */
function lockFile(fd: number, path: string): boolean {
  const lock = Buffer.alloc(FLOCK_BYTES);
  lock.writeInt16LE(F_WRLCK, 0);
  if (load().fcntl(fd, F_SETLK, lock) === 0) return true;
  const errno = koffi().errno();
  if (errno === koffi().os.errno.EAGAIN || errno === koffi().os.errno.EACCES) return false;
  throw errnoError('cannot lock', path);
}

/** Makes a FIFO at `path` unless one is there already (health-files.ts makes one too). */
export function makeFifo(path: string, mode: number): void {
  if (load().mkfifo(path, mode) === 0) return;
  if (koffi().errno() !== koffi().os.errno.EEXIST) throw errnoError('cannot make the FIFO', path);
  if (!statSync(path).isFIFO()) throw new Error(`${path} exists and is not a FIFO`);
}

/** A listener's FIFO in a fifodir: `ftrig1:@` and 31 more characters (s6's ftrig1 names). */
function isListener(name: string): boolean {
  return name.length === 39 && name.startsWith('ftrig1:@');
}

/** Wakes every listener of fifodir `dir` with `events`; a FIFO nobody reads any more is removed. */
export function notifyFifodir(dir: string, events: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter(isListener)) {
    const path = join(dir, name);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENXIO') rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, events);
    } catch (err) {
      // A full FIFO is its reader's problem (s6 does the same); a closed one is gone.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') rmSync(path, { force: true });
    } finally {
      closeSync(fd);
    }
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Makes `dir` with `mode` if it is not there; true when it was made now. */
function makeDir(dir: string, mode: number): boolean {
  try {
    mkdirSync(dir, { mode });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    return false;
  }
}

/** Writes `bytes` to `file` through `file.new` and a rename: a reader sees the old or the new, whole. */
function replaceFile(file: string, bytes: Uint8Array): void {
  writeFileSync(`${file}.new`, bytes, { mode: 0o644 });
  renameSync(`${file}.new`, file);
}

/** What a SuperviseDir keeps in the service's dir: s6-supervise's dirs, and the files warden writes there (setFile). */
export const SUPERVISOR_ENTRIES: ReadonlySet<string> = new Set(['supervise', 'event', 'down', 'notification-fd']);

export class SuperviseDir {
  private readonly control: Socket;

  private constructor(
    readonly dir: string,
    private readonly lockFd: number,
    private readonly keepOpenFd: number,
    controlFd: number,
    onControl: (bytes: Buffer) => void,
  ) {
    this.control = new Socket({ fd: controlFd, readable: true, writable: false });
    this.control.on('data', onControl);
    // Nothing can end it but close(): warden holds a writer open too.
    this.control.on('error', () => undefined);
    this.control.unref();
  }

  /**
   * Makes (or takes over) the supervise/ and event/ dirs of `dir` and holds its lock; throws
   * when they cannot be made, or when another supervisor holds the lock.
   */
  static open(dir: string, onControl: (bytes: Buffer) => void): SuperviseDir {
    // A link at this path (an earlier s6-overlay's /run/service/NAME, an image's) is not
    // followed: it may lead into an image's service dir, where warden writes nothing.
    if (isLink(dir)) unlinkSync(dir);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const events = join(dir, 'event');
    // As s6-supervise: a fifodir anyone of warden's group may subscribe to, sticky so no one
    // removes another's FIFO.
    if (makeDir(events, 0o700)) {
      chownSync(events, -1, process.getegid?.() ?? 0);
      chmodSync(events, 0o3730);
    }
    const supervise = join(dir, 'supervise');
    makeDir(supervise, 0o700);
    const lockPath = join(supervise, 'lock');
    const lockFd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
    let control = -1;
    try {
      if (!lockFile(lockFd, lockPath)) throw new Error(`${lockPath} is locked: another supervisor (s6-supervise or a warden) runs on ${dir}`);
      const fifo = join(supervise, 'control');
      makeFifo(fifo, 0o600);
      control = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      // A writer of our own: the reader never sees end of file between two s6-svc calls.
      const keepOpen = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      // Listeners left by a supervisor that ended: their readers are gone.
      notifyFifodir(events, '');
      replaceFile(join(supervise, 'death_tally'), new Uint8Array(0));
      return new SuperviseDir(dir, lockFd, keepOpen, control, onControl);
    } catch (err) {
      if (control >= 0) closeSync(control);
      closeSync(lockFd);
      throw err;
    }
  }

  writeStatus(bytes: Uint8Array): void {
    replaceFile(join(this.dir, 'supervise', 'status'), bytes);
  }

  writeDeathTally(bytes: Uint8Array): void {
    replaceFile(join(this.dir, 'supervise', 'death_tally'), bytes);
  }

  notify(events: string): void {
    if (events !== '') notifyFifodir(join(this.dir, 'event'), events);
  }

  /** A file of warden's copy of the service dir: present with `text`, or absent (null). */
  setFile(name: string, text: string | null): void {
    const path = join(this.dir, name);
    if (text !== null) writeFileSync(path, text, { mode: 0o644 });
    else {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  /** Stops reading the control FIFO and drops the lock: s6-svok says no from now on. */
  close(): void {
    this.control.destroy();
    closeSync(this.keepOpenFd);
    closeSync(this.lockFd);
  }
}
