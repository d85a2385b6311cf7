/**
 * Runs the handler's work serially across processes and coalesces bursts: the serf-handler
 * service's passes and the haproxy service's `render` (at HAProxy's start) never overlap. Whoever
 * holds the lock does the work, and an invocation that finds the lock held only marks the state
 * dirty: the holder sees the new mark when it finishes and runs once more. The lock is an O_EXCL
 * file holding the holder's pid; a lock whose pid is gone (the holder was killed) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pidExists } from '../../adapters/signals.js';

export interface CoalesceFiles {
  readonly lock: string;
  readonly dirty: string;
}

export function coalesceFiles(runDir: string): CoalesceFiles {
  return { lock: join(runDir, 'serf-handler.lock'), dirty: join(runDir, 'serf-handler.dirty') };
}

/** Records that the membership changed since the last pass (a fresh token, written atomically). */
export function markDirty(files: CoalesceFiles): string {
  const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const tmp = `${files.dirty}.${process.pid}`;
  writeFileSync(tmp, token);
  renameSync(tmp, files.dirty);
  return token;
}

function readToken(files: CoalesceFiles): string {
  try {
    return readFileSync(files.dirty, 'utf8');
  } catch {
    return '';
  }
}


/** Takes the lock, or returns false when a live process holds it. */
export function tryLock(files: CoalesceFiles): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(files.lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(files.lock, 'utf8'));
    } catch {
      continue; // Released between our open and read: try again.
    }
    // A holder that has not written its pid yet is alive by definition; only a dead pid is stale.
    if (!Number.isInteger(holder) || holder <= 0 || pidExists(holder)) return false;
    try {
      unlinkSync(files.lock);
    } catch {
      // Someone else took it over first.
    }
  }
  return false;
}

export function unlock(files: CoalesceFiles): void {
  try {
    unlinkSync(files.lock);
  } catch {
    // Already gone.
  }
}

export interface CoalesceResult {
  /** False when another process held the lock: it will do the work. */
  readonly ran: boolean;
  readonly passes: number;
}

/**
 * Marks dirty, then, if it gets the lock, runs `pass` until no new mark arrived during a pass
 * (at most `maxPasses`; a pass that throws ends the run, the error goes to the caller).
 */
export async function runCoalesced(files: CoalesceFiles, pass: () => Promise<void>, maxPasses = 20): Promise<CoalesceResult> {
  markDirty(files);
  let passes = 0;
  for (;;) {
    if (!tryLock(files)) return { ran: passes > 0, passes };
    let seen = '';
    try {
      do {
        seen = readToken(files);
        passes++;
        await pass();
      } while (readToken(files) !== seen && passes < maxPasses);
    } finally {
      unlock(files);
    }
    // A mark made after our last check but before the unlock found the lock held and left the
    // work to us: take the lock again for it.
    if (readToken(files) === seen || passes >= maxPasses) return { ran: true, passes };
  }
}
