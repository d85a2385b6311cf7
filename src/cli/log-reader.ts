/**
 * Reads the services' log files back (`DIR/NAME/current` and `@….s` archives, written by
 * adapters/service-logs.ts): the last lines merged across services in time order, and a
 * follower that keeps printing new lines across rotations.
 *
 * Consistency with a writer that rotates meanwhile: `current` is opened first and read through
 * that fd up to the size it had; an archive with the same inode is that very file (renamed in
 * between) and is skipped. A follower starts where that read stopped, on the same fd, so the
 * tail and the follow neither lose nor repeat a line.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { parseRecord } from '../adapters/log-line.js';
import { CURRENT, sortedArchives } from '../adapters/rotating-file.js';
import type { LogEntry } from '../protocol/log-entry.js';

export type { LogEntry };

export class SinceError extends Error {}

const RELATIVE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO-8601 time, or a duration back from `now` (`500ms`, `10s`, `5m`, `1h`, `2d`). */
export function parseSince(text: string, now: number): number {
  const rel = RELATIVE.exec(text.trim());
  if (rel !== null) return now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  // A bare date or a time with a zone; Date.parse would read 2024-05-01T12:00 as local time.
  if (/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d))?$/.test(text.trim())) {
    const ms = Date.parse(text.trim());
    if (!Number.isNaN(ms)) return ms;
  }
  throw new SinceError(`--since ${JSON.stringify(text)}: expected an ISO-8601 time with zone (2024-05-01T12:00:00Z) or a duration like 30s, 5m, 1h, 2d`);
}

/** The services that have a log (a `current` or an archive) under `dir`, sorted. */
export async function servicesWithLogs(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: string[] = [];
  for (const name of names.sort()) {
    try {
      const files = await readdir(join(dir, name));
      if (files.includes(CURRENT) || sortedArchives(files).length > 0) found.push(name);
    } catch {
      // not a dir
    }
  }
  return found;
}

/** `current` of one service, opened, with the inode and size it had when opened. */
export interface OpenCurrent {
  readonly fh: FileHandle;
  readonly ino: number;
  readonly size: number;
  /** Archives newer than this name came after `fh` (a follower reads them); not set: no limit. */
  readonly newestArchive?: string;
}

async function openCurrent(dir: string): Promise<OpenCurrent | null> {
  try {
    const fh = await open(join(dir, CURRENT), 'r');
    const st = await fh.stat();
    return { fh, ino: st.ino, size: st.size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readRange(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await fh.read(buf, at, size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return buf.subarray(0, at);
}

/** The complete records of `text`, in file order; lines that are not records are skipped. */
export function parseRecords(service: string, text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const raw of text.split('\n')) {
    const r = parseRecord(raw);
    if (r !== null) out.push({ time: r.time, service, stream: r.stream, continued: r.continued, line: r.line });
  }
  return out;
}

export interface ReadOptions {
  /** At most this many entries in all (the newest); undefined: no limit. */
  readonly lines?: number;
  /** Only entries at or after this time (ms). */
  readonly sinceMs?: number;
  /** `current` already opened per service (by a follower); read up to its size, not to EOF. */
  readonly pinned?: ReadonlyMap<string, OpenCurrent>;
}

/** One service's newest entries: `current`, then archives from newest, until enough. */
export async function readService(dir: string, service: string, opts: ReadOptions = {}): Promise<LogEntry[]> {
  const sdir = join(dir, service);
  const pinned = opts.pinned?.get(service);
  const current = pinned ?? (await openCurrent(sdir));
  const since = opts.sinceMs === undefined ? undefined : new Date(opts.sinceMs).toISOString();
  const chunks: LogEntry[][] = [];
  let count = 0;
  const enough = (entries: readonly LogEntry[]): boolean =>
    (opts.lines !== undefined && count >= opts.lines) || (since !== undefined && entries.length > 0 && entries[0]!.time < since);
  try {
    if (current !== null) {
      const entries = parseRecords(service, (await readRange(current.fh, current.size)).toString('utf8'));
      chunks.push(entries);
      count += entries.length;
      if (enough(entries)) return finish(chunks, opts, since);
    }
    const newest = pinned?.newestArchive;
    const archives = sortedArchives(await readdir(sdir).catch(() => []))
      .filter((n) => newest === undefined || n <= newest)
      .reverse();
    for (const name of archives) {
      let text: string;
      try {
        const fh = await open(join(sdir, name), 'r');
        try {
          const st = await fh.stat();
          if (current !== null && st.ino === current.ino) continue; // current, renamed since we opened it
          text = (await readRange(fh, st.size)).toString('utf8');
        } finally {
          await fh.close();
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // pruned meanwhile
        throw err;
      }
      const entries = parseRecords(service, text);
      chunks.push(entries);
      count += entries.length;
      if (enough(entries)) break;
    }
  } finally {
    if (pinned === undefined) await current?.fh.close();
  }
  return finish(chunks, opts, since);
}

function finish(newestFirst: LogEntry[][], opts: ReadOptions, since: string | undefined): LogEntry[] {
  let all = newestFirst.reverse().flat();
  if (since !== undefined) all = all.filter((e) => e.time >= since);
  if (opts.lines !== undefined) all = opts.lines <= 0 ? [] : all.slice(-opts.lines);
  return all;
}

/**
 * Merges per-service lists (each in time order) into one in time order. Stable: equal times
 * keep the order of `lists`, and within a list their file order.
 */
export function mergeByTime(lists: readonly (readonly LogEntry[])[]): LogEntry[] {
  const out: LogEntry[] = [];
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const e = lists[i]![at[i]!];
      if (e !== undefined && (best === -1 || e.time < lists[best]![at[best]!]!.time)) best = i;
    }
    if (best === -1) return out;
    out.push(lists[best]![at[best]!]!);
    at[best]!++;
  }
}

/** The newest entries of `services`, merged in time order; `lines` and `sinceMs` apply to the merged list. */
export async function readLogs(dir: string, services: readonly string[], opts: ReadOptions = {}): Promise<LogEntry[]> {
  const lists = await Promise.all(services.map((s) => readService(dir, s, opts)));
  const merged = mergeByTime(lists);
  return opts.lines === undefined ? merged : opts.lines <= 0 ? [] : merged.slice(-opts.lines);
}

interface Tail {
  readonly service: string;
  readonly dir: string;
  readonly path: string;
  fh: FileHandle | null;
  ino: number;
  pos: number;
  partial: Buffer | null;
  /**
   * The newest archive that holds nothing after what was delivered: every archive named after
   * it was `current` later and must be read when a rotation is seen (several rotations can
   * happen between two looks).
   */
  baseline: string;
  busy: Promise<void> | null;
  again: boolean;
}

export interface FollowOptions {
  /** Also drain every this many ms, in case a file event was missed; default 1000. */
  readonly pollMs?: number;
  readonly onError?: (err: unknown) => void;
}

const READ_CHUNK = 256 * 1024;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

async function inoOf(fh: FileHandle): Promise<number> {
  return (await fh.stat()).ino;
}

/**
 * Follows `current` of each service across rotations: when `current` is a new inode, the old
 * file is read to its end through its fd, then every archive made since (in name order), then
 * the new `current`. Truncation in place (size below the position) starts over from 0.
 */
export class LogFollower {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private onEntries: (entries: LogEntry[]) => void = () => undefined;
  private closed = false;

  private constructor(
    private readonly tails: Map<string, Tail>,
    private readonly opts: FollowOptions,
  ) {}

  /** Opens `current` of each service and places the follower at its end. */
  static async open(dir: string, services: readonly string[], opts: FollowOptions = {}): Promise<LogFollower> {
    const tails = new Map<string, Tail>();
    for (const service of services) {
      const sdir = join(dir, service);
      const cur = await openCurrent(sdir);
      // Listed after the open: an archive with our inode is our file, renamed meanwhile.
      let baseline = '';
      for (const name of sortedArchives(await readdir(sdir).catch(() => [])).reverse()) {
        const ino = await stat(join(sdir, name)).then((st) => st.ino, () => -1);
        if (cur === null || ino !== cur.ino) {
          baseline = name;
          break;
        }
      }
      tails.set(service, { service, dir: sdir, path: join(sdir, CURRENT), fh: cur?.fh ?? null, ino: cur?.ino ?? -1, pos: cur?.size ?? 0, partial: null, baseline, busy: null, again: false });
    }
    return new LogFollower(tails, opts);
  }

  /** The opened `current` files, for `readLogs({ pinned })`: the tail ends where following starts. */
  get pinned(): ReadonlyMap<string, OpenCurrent> {
    const out = new Map<string, OpenCurrent>();
    for (const t of this.tails.values()) if (t.fh !== null) out.set(t.service, { fh: t.fh, ino: t.ino, size: t.pos, newestArchive: t.baseline });
    return out;
  }

  /** Starts delivering new entries (per service, in file order); resolves once watching. */
  async start(onEntries: (entries: LogEntry[]) => void): Promise<void> {
    this.onEntries = onEntries;
    const watcher = watch(
      [...this.tails.values()].map((t) => t.dir),
      { ignoreInitial: true, depth: 0, persistent: true },
    );
    this.watcher = watcher;
    watcher.on('all', (_event, path) => {
      const tail = this.tails.get(basename(dirname(path))) ?? this.tails.get(basename(path));
      if (tail !== undefined) this.kick(tail);
    });
    watcher.on('error', (err) => this.opts.onError?.(err));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    this.timer = setInterval(() => {
      for (const t of this.tails.values()) this.kick(t);
    }, this.opts.pollMs ?? 1000);
    for (const t of this.tails.values()) this.kick(t);
  }

  /** Stops watching and closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.watcher?.close();
    for (const t of this.tails.values()) {
      while (t.busy !== null) await t.busy;
      await t.fh?.close();
      t.fh = null;
    }
  }

  private kick(tail: Tail): void {
    if (this.closed) return;
    if (tail.busy !== null) {
      tail.again = true;
      return;
    }
    tail.busy = (async () => {
      do {
        tail.again = false;
        try {
          await this.drain(tail);
        } catch (err) {
          this.opts.onError?.(err);
        }
      } while (tail.again && !this.closed);
    })().finally(() => (tail.busy = null));
  }

  private async drain(tail: Tail): Promise<void> {
    for (;;) {
      if (tail.fh !== null) await this.readToEnd(tail);
      let ino: number;
      let size: number;
      try {
        ({ ino, size } = await stat(tail.path));
      } catch (err) {
        if (isMissing(err)) return; // between the rename and the new current
        throw err;
      }
      if (tail.fh !== null && ino === tail.ino) {
        if (size >= tail.pos) return;
        // Truncated in place: start over. (Refilled past the old size between two looks, it
        // cannot be told from appends: a limit of following by size.)
        tail.pos = 0;
        tail.partial = null;
        continue;
      }
      if (!(await this.switchFile(tail))) return;
    }
  }

  /** `current` is another file now: read what was archived since, then take the new one. */
  private async switchFile(tail: Tail): Promise<boolean> {
    let next: FileHandle | null = null;
    let nextIno = -1;
    try {
      next = await open(tail.path, 'r');
      nextIno = await inoOf(next);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    for (const name of sortedArchives(await readdir(tail.dir)).filter((n) => n > tail.baseline)) {
      let fh: FileHandle;
      try {
        fh = await open(join(tail.dir, name), 'r');
      } catch (err) {
        if (isMissing(err)) continue; // pruned before we got to it: keep is too small for this reader
        throw err;
      }
      try {
        const ino = await inoOf(fh);
        if (ino === nextIno) break; // the new current was archived already: it is followed through its fd
        tail.baseline = name;
        if (tail.fh !== null && ino === tail.ino) continue; // our file, read through its fd
        await this.readWhole(tail.service, fh);
      } finally {
        await fh.close();
      }
    }
    if (tail.fh !== null) {
      this.flushPartial(tail);
      await tail.fh.close();
      tail.fh = null;
    }
    if (next === null) return false;
    tail.fh = next;
    tail.ino = nextIno;
    tail.pos = 0;
    tail.partial = null;
    return true;
  }

  private async readWhole(service: string, fh: FileHandle): Promise<void> {
    const text = (await readRange(fh, (await fh.stat()).size)).toString('utf8');
    const entries = parseRecords(service, text);
    if (entries.length > 0) this.onEntries(entries);
  }

  private async readToEnd(tail: Tail): Promise<void> {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await tail.fh!.read(buf, 0, READ_CHUNK, tail.pos);
      if (bytesRead === 0) return;
      tail.pos += bytesRead;
      let chunk = buf.subarray(0, bytesRead);
      if (tail.partial !== null) chunk = Buffer.concat([tail.partial, chunk]);
      const lastLf = chunk.lastIndexOf(0x0a);
      // Only whole records: a write in progress may show half a record.
      tail.partial = lastLf === chunk.length - 1 ? null : Buffer.from(chunk.subarray(lastLf + 1));
      if (lastLf >= 0) this.deliver(tail, chunk.subarray(0, lastLf).toString('utf8'));
    }
  }

  private flushPartial(tail: Tail): void {
    if (tail.partial !== null) this.deliver(tail, tail.partial.toString('utf8'));
    tail.partial = null;
  }

  private deliver(tail: Tail, text: string): void {
    const entries = parseRecords(tail.service, text);
    if (entries.length > 0) this.onEntries(entries);
  }
}
