/**
 * One service's log directory: `DIR/NAME/current` plus its archives, rotated by size.
 *
 * Rotation: when appending the next record would take `current` past `maxBytes`, `current` is
 * closed and renamed to `@YYYYMMDDTHHMMSS.mmmZ.s` (UTC time of the rotation, like s6-log's
 * `@TAI64N.s`), a new `current` is started, and only the newest `keep` archives are kept.
 * Archive names are never reused or renamed again (unlike `current.1 … current.N`, which shift
 * on every rotation): a reader listing them never races a cascade of renames, and name order is
 * time order. Names are made strictly increasing (a clock that stalls or steps back gets the
 * last name + 1 ms), also across restarts of warden, so a rename never overwrites an archive.
 *
 * A record is never split between files: a file goes past `maxBytes` only when one record is
 * bigger than `maxBytes` by itself (it then fills a file alone).
 *
 * Writes are queued and appended in batches (one `writev` for everything that arrived while the
 * previous write ran), so the event loop never waits for the disk. `pendingBytes` tells the
 * owner how far the disk lags; `onDrain` says when it has caught up again.
 *
 * No fsync on rotation (s6-log does one): a container's log outlives a crash of warden, not a
 * crash of the machine under it, and an fsync per MiB would make a slow disk slower.
 */
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogLimits {
  readonly maxBytes: number;
  readonly keep: number;
}

export const CURRENT = 'current';
/** `@20240501T120000.123Z.s` */
export const ARCHIVE_NAME = /^@(\d{8}T\d{6}\.\d{3}Z)\.s$/;

export interface RotatingFileOptions {
  readonly limits: LogLimits;
  readonly now: () => number;
  /**
   * A write, open, rename or unlink failed; what was queued is dropped. Called once when the
   * file starts failing, not again until a write has succeeded (a full disk must not flood
   * warden's own log).
   */
  readonly onError: (err: unknown) => void;
  /** `pendingBytes` fell to `lowWater` or below after having been above it. */
  readonly onDrain: () => void;
  readonly lowWater: number;
}

/** The archive name for a rotation at `ms` (UTC). */
export function archiveName(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2024-05-01T12:00:00.123Z
  return `@${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z.s`;
}

/** The time an archive name stands for, or null when `name` is not an archive. */
export function archiveTime(name: string): number | null {
  const m = ARCHIVE_NAME.exec(name);
  if (m === null) return null;
  const s = m[1]!;
  const ms = Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13)}`);
  return Number.isNaN(ms) ? null : ms;
}

/** Archive names in `names`, oldest first. */
export function sortedArchives(names: readonly string[]): string[] {
  return names.filter((n) => ARCHIVE_NAME.test(n)).sort();
}

/** Appends whole records to `dir/current`, rotating by size. */
export class RotatingFile {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private inFlight = 0;
  private fh: FileHandle | null = null;
  private size = 0;
  private archives: string[] = [];
  private lastArchiveMs = -Infinity;
  private pump: Promise<void> | null = null;
  private aboveLowWater = false;
  private closed = false;
  private failing = false;
  /** Lines given up after a failed write (those still queued when it failed). */
  droppedLines = 0;
  limits: LogLimits;

  constructor(
    readonly dir: string,
    private readonly opts: RotatingFileOptions,
  ) {
    this.limits = opts.limits;
  }

  /** Bytes accepted but not yet written. */
  get pendingBytes(): number {
    return this.queued + this.inFlight;
  }

  /** Queues `records` (whole records, each ending in LF). */
  write(records: Buffer): void {
    if (records.length === 0) return;
    if (this.closed) throw new Error(`log ${this.dir} is closed`);
    this.queue.push(records);
    this.queued += records.length;
    if (this.pendingBytes > this.opts.lowWater) this.aboveLowWater = true;
    this.pump ??= this.run().finally(() => (this.pump = null));
  }

  /** Resolves when everything queued so far is written (or dropped after an error). */
  async flush(): Promise<void> {
    while (this.pump !== null) await this.pump;
  }

  /** Writes what is queued, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      try {
        if (this.fh === null) await this.openCurrent();
        await this.writeSome();
      } catch (err) {
        // Drop what was queued: memory stays bounded and the service keeps running. The next
        // write tries again from a fresh open.
        for (const records of this.queue) this.droppedLines += countLines(records);
        this.queue.length = 0;
        this.queued = 0;
        this.inFlight = 0;
        const fh = this.fh;
        this.fh = null;
        await fh?.close().catch(() => undefined);
        if (!this.failing) this.opts.onError(err);
        this.failing = true;
      }
      if (this.aboveLowWater && this.pendingBytes <= this.opts.lowWater) {
        this.aboveLowWater = false;
        this.opts.onDrain();
      }
    }
  }

  /** Writes as many queued records as fit in `current`; rotates when the next one does not. */
  private async writeSome(): Promise<void> {
    const { maxBytes } = this.limits;
    const batch: Buffer[] = [];
    let room = maxBytes - this.size;
    let full = false;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.length <= room) {
        batch.push(head);
        room -= head.length;
        this.queue.shift();
        continue;
      }
      // Cut the buffer after the last record that fits; the rest waits for the next file.
      const cut = room > 0 ? head.lastIndexOf(0x0a, room - 1) + 1 : 0;
      if (cut > 0) {
        batch.push(head.subarray(0, cut));
        this.queue[0] = head.subarray(cut);
      } else if (this.size === 0 && batch.length === 0) {
        // One record bigger than a whole file: it gets a file of its own.
        const end = head.indexOf(0x0a) + 1 || head.length;
        batch.push(head.subarray(0, end));
        if (end === head.length) this.queue.shift();
        else this.queue[0] = head.subarray(end);
      }
      full = true;
      break;
    }
    let bytes = 0;
    for (const b of batch) bytes += b.length;
    this.queued -= bytes;
    this.inFlight = bytes;
    if (bytes > 0) {
      await this.fh!.writev(batch);
      this.size += bytes;
      this.failing = false;
    }
    this.inFlight = 0;
    if (full) await this.rotate();
  }

  private async openCurrent(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.archives = sortedArchives(await readdir(this.dir));
    const newest = this.archives.at(-1);
    this.lastArchiveMs = newest === undefined ? -Infinity : (archiveTime(newest) ?? -Infinity);
    const fh = await open(join(this.dir, CURRENT), 'a', 0o644);
    this.size = (await fh.stat()).size;
    this.fh = fh;
  }

  private async rotate(): Promise<void> {
    const fh = this.fh!;
    this.fh = null;
    await fh.close();
    const ms = Math.max(this.opts.now(), this.lastArchiveMs + 1);
    const name = archiveName(ms);
    await rename(join(this.dir, CURRENT), join(this.dir, name));
    this.lastArchiveMs = ms;
    this.archives.push(name);
    while (this.archives.length > this.limits.keep) {
      const old = this.archives.shift()!;
      await unlink(join(this.dir, old)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    // Open the new current at once (not lazily): followers find it right after the rename.
    await this.openCurrent();
  }
}

function countLines(records: Buffer): number {
  let n = 0;
  for (let at = records.indexOf(0x0a); at >= 0; at = records.indexOf(0x0a, at + 1)) n++;
  return n;
}
