/**
 * Captures the stdout and stderr pipes of every service: each line goes to the service's log
 * file (`DIR/NAME/current`, rotated by size; record format in log-line.ts, rotation in
 * rotating-file.ts) and is echoed to the container's stdout as `NAME | text` (stderr:
 * `NAME ! text`), as JSON lines `{"time","service","stream","line"}`, or not at all.
 *
 * Defaults: 10 archives of 1 MiB, so at most 11 MiB per service. s6-log keeps 10 × 99999 bytes,
 * about 1000 lines of a chatty web app: too little to look back a few minutes. A 1 MiB rotation
 * costs one rename and one unlink, nothing next to writing the MiB.
 *
 * Backpressure: lines are appended in batches, off the event loop (RotatingFile). When a
 * service's file lags more than `highWaterBytes` behind, that service's pipes are paused: Node
 * stops reading them, the pipe fills and the service blocks in write(2), as it would under
 * s6-log. They resume when the lag is back under half of it. Other services are not affected.
 * Memory per service: about `highWaterBytes` + one 64 KiB chunk and one partial line (≤ 64 KiB)
 * per pipe. When the console stream says it is full (write() → false), every service is paused
 * until it drains.
 */
import { join } from 'node:path';
import type { ConsoleFormat } from '../core/service-spec.js';
import { formatRecords, LineSplitter, MAX_LINE_BYTES, type LineSegment, type StreamName } from './log-line.js';
import { RotatingFile, type LogLimits } from './rotating-file.js';
import { logEntryLine } from '../protocol/log-entry.js';

export type { LogLimits } from './rotating-file.js';

export const DEFAULT_LOG_DIR = '/var/log/warden';
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_KEEP = 10;
export const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;

/** Where service logs go when the log dir cannot be written (a read-only root): in the runtime dir. */
export function fallbackLogDir(runDir: string): string {
  return join(runDir, 'log');
}

/** `WARDEN_LOG_DIR`, else /var/log/warden. */
export function logDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.WARDEN_LOG_DIR;
  return dir !== undefined && dir !== '' ? dir : DEFAULT_LOG_DIR;
}

export interface ServiceLogsOptions {
  readonly dir: string;
  readonly console: ConsoleFormat;
  readonly defaultMaxBytes: number;
  readonly defaultKeep: number;
  /** Where console lines go; default process.stdout. */
  readonly consoleStream?: NodeJS.WritableStream;
  /** Clock for record times and archive names; default Date.now. */
  readonly now?: () => number;
  /** Disk lag (bytes) at which a service's pipes are paused; default 1 MiB. */
  readonly highWaterBytes?: number;
}

interface Pipe {
  readonly stream: NodeJS.ReadableStream;
  readonly name: StreamName;
  readonly splitter: LineSplitter;
  readonly detach: () => void;
}

interface ServiceLog {
  readonly file: RotatingFile;
  readonly pipes: Set<Pipe>;
  /** The file lags more than the high-water mark. */
  lagging: boolean;
  paused: boolean;
  /** Lines taken from the service's output (for the metrics). */
  lines: number;
}

const SEPARATOR: Readonly<Record<StreamName, string>> = { out: ' | ', err: ' ! ' };

export class ServiceLogs {
  private readonly services = new Map<string, ServiceLog>();
  private readonly now: () => number;
  private readonly highWater: number;
  private readonly consoleOut: NodeJS.WritableStream | null;
  private consoleBlocked = false;
  private consoleBroken = false;
  private closed = false;

  constructor(
    private readonly opts: ServiceLogsOptions,
    private readonly onError: (service: string, err: unknown) => void,
  ) {
    this.now = opts.now ?? Date.now;
    this.highWater = opts.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.consoleOut = opts.console === 'none' ? null : (opts.consoleStream ?? process.stdout);
    this.consoleOut?.on('drain', () => {
      this.consoleBlocked = false;
      for (const log of this.services.values()) this.updateFlow(log);
    });
    this.consoleOut?.on('error', (err: unknown) => {
      // A closed container stdout (EPIPE) must not take warden down: stop echoing, keep files.
      if (!this.consoleBroken) this.onError('-', err);
      this.consoleBroken = true;
      this.consoleBlocked = false;
      for (const log of this.services.values()) this.updateFlow(log);
    });
  }

  /** Takes the output pipes of one process of `service`; may be called again for each restart (same files, appending). */
  attach(service: string, stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream, limits?: Partial<LogLimits>): void {
    if (this.closed) throw new Error('ServiceLogs is closed');
    const log = this.logFor(service);
    if (limits !== undefined) log.file.limits = { ...log.file.limits, ...limits };
    this.pipe(service, log, stdout, 'out');
    this.pipe(service, log, stderr, 'err');
    this.updateFlow(log);
  }

  /** Lines taken from `service`'s output, and those lost to a failing log file, since it was first seen. */
  lineCounts(service: string): { readonly written: number; readonly dropped: number } {
    const log = this.services.get(service);
    return { written: log?.lines ?? 0, dropped: log?.file.droppedLines ?? 0 };
  }

  /** Flushes and closes every file (shutdown); resolves when all written. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [service, log] of this.services) this.endPipes(service, log);
    await Promise.all([...this.services.values()].map((log) => log.file.close()));
  }

  /**
   * Lets go of a service warden no longer supervises: its last lines are written and its file
   * closed. Without this every removed service kept its `current` open, and churn (add, reload,
   * delete, reload) ended in EMFILE. A service added again later reopens its file.
   */
  async forget(service: string): Promise<void> {
    const log = this.services.get(service);
    if (log === undefined) return;
    this.services.delete(service);
    this.endPipes(service, log);
    await log.file.close();
  }

  private endPipes(service: string, log: ServiceLog): void {
    for (const pipe of log.pipes) {
      const rest = pipe.splitter.end();
      if (rest.length > 0) this.emit(service, log, pipe.name, rest);
      pipe.detach();
      // Nobody reads any more: let late output drain to nowhere rather than block the service.
      pipe.stream.resume();
    }
    log.pipes.clear();
  }

  private logFor(service: string): ServiceLog {
    const known = this.services.get(service);
    if (known !== undefined) return known;
    const log: ServiceLog = {
      file: new RotatingFile(join(this.opts.dir, service), {
        limits: { maxBytes: this.opts.defaultMaxBytes, keep: this.opts.defaultKeep },
        now: this.now,
        lowWater: Math.floor(this.highWater / 2),
        onError: (err) => this.onError(service, err),
        onDrain: () => {
          log.lagging = false;
          this.updateFlow(log);
        },
      }),
      pipes: new Set(),
      lagging: false,
      paused: false,
      lines: 0,
    };
    this.services.set(service, log);
    return log;
  }

  private pipe(service: string, log: ServiceLog, stream: NodeJS.ReadableStream, name: StreamName): void {
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const onData = (chunk: Buffer | string): void => {
      const segments = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (segments.length > 0) this.emit(service, log, name, segments);
    };
    const onEnd = (): void => {
      const rest = splitter.end();
      if (rest.length > 0) this.emit(service, log, name, rest);
      pipe.detach();
      log.pipes.delete(pipe);
    };
    const onError = (err: unknown): void => this.onError(service, err);
    const pipe: Pipe = {
      stream,
      name,
      splitter,
      detach: () => {
        stream.removeListener('data', onData);
        stream.removeListener('end', onEnd);
        stream.removeListener('close', onEnd);
        stream.removeListener('error', onError);
      },
    };
    log.pipes.add(pipe);
    stream.on('data', onData);
    stream.on('end', onEnd);
    // A destroyed stream may close without 'end'; the splitter's rest is flushed either way.
    stream.on('close', onEnd);
    stream.on('error', onError);
    // 'data' listeners start the flow; a service whose file lags starts paused.
    if (log.paused) stream.pause();
  }

  private emit(service: string, log: ServiceLog, stream: StreamName, segments: readonly LineSegment[]): void {
    const time = new Date(this.now()).toISOString();
    for (const s of segments) if (!s.continued) log.lines++;
    log.file.write(formatRecords(time, stream, segments));
    if (log.file.pendingBytes > this.highWater && !log.lagging) {
      log.lagging = true;
      this.updateFlow(log);
    }
    if (this.consoleOut !== null && !this.consoleBroken) {
      const text = this.opts.console === 'json' ? jsonLines(time, service, stream, segments) : prefixLines(service, stream, segments);
      if (!this.consoleOut.write(text) && !this.consoleBlocked) {
        this.consoleBlocked = true;
        for (const other of this.services.values()) this.updateFlow(other);
      }
    }
  }

  private updateFlow(log: ServiceLog): void {
    const pause = !this.closed && (log.lagging || this.consoleBlocked);
    if (pause === log.paused) return;
    log.paused = pause;
    for (const pipe of log.pipes) {
      if (pause) pipe.stream.pause();
      else pipe.stream.resume();
    }
  }
}

/** `NAME | text` (stdout) or `NAME ! text` (stderr) per line, as one buffer. */
export function prefixLines(service: string, stream: StreamName, segments: readonly LineSegment[]): Buffer {
  const prefix = Buffer.from(`${service}${SEPARATOR[stream]}`);
  let size = 0;
  for (const s of segments) size += prefix.length + s.text.length + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const s of segments) {
    at += prefix.copy(out, at);
    at += s.text.copy(out, at);
    out[at++] = 0x0a;
  }
  return out;
}

/** One `{"time","service","stream","line"}` JSON line per line; pieces of a too-long line add `"continued":true`. */
export function jsonLines(time: string, service: string, stream: StreamName, segments: readonly LineSegment[]): string {
  let out = '';
  for (const s of segments) out += logEntryLine({ time, service, stream, line: s.text.toString('utf8'), continued: s.continued });
  return out;
}
