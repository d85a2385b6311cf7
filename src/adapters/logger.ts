/**
 * warden's own log on stderr: one JSON line per event, in pino's format (`level` as a number,
 * `time` in ms, the event's fields, `msg`; errors under `err` as `{ type, message, stack, … }`),
 * so pino's tools read it. Not pino itself: PID 1 uses one destination, one format and no
 * transports, and pino brought worker_threads, assert, diagnostics_channel and half of the boot
 * bundle with it: ~1 MB of RSS for the container's whole life and ~5 ms of every boot.
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { prettyLine } from './pretty-log.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Writes one event: its fields, then the message. */
export type LogMethod = (fields: object, msg?: string) => void;

export type Logger = Readonly<Record<LogLevel, LogMethod>>;

export type LogFormat = 'json' | 'pretty';

const LEVELS: Readonly<Record<LogLevel | 'silent', number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** `WARDEN_LOG_FORMAT`, else pretty on a terminal and JSON lines everywhere else. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = isatty(2)): LogFormat {
  const chosen = env.WARDEN_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return isTTY ? 'pretty' : 'json';
}

/**
 * warden's logger at `level` (pino's names, and `silent`). Writes are synchronous so that the
 * last lines before PID 1 exits are never lost, and a closed stderr cannot make warden crash.
 */
export function createLogger(level: string = process.env.WARDEN_LOG_LEVEL ?? 'info', write: (line: string) => void = writeStderr): Logger {
  const threshold = LEVELS[level as LogLevel | 'silent'];
  if (threshold === undefined) throw new Error(`unknown level ${level}`);
  const out = logFormat() === 'pretty' ? (line: string) => write(prettyLine(line)) : write;
  const method =
    (name: LogLevel): LogMethod =>
    (fields, msg) => {
      if (LEVELS[name] >= threshold) out(logLine(LEVELS[name], Date.now(), fields, msg));
    };
  return { trace: method('trace'), debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error'), fatal: method('fatal') };
}

/** One record as pino writes it: level, time, the fields (undefined ones left out), msg. */
export function logLine(level: number, time: number, fields: object, msg: string | undefined): string {
  let line = `{"level":${level},"time":${time}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    line += `,${JSON.stringify(key)}:${json(key === 'err' ? serializeError(value) : value)}`;
  }
  if (msg !== undefined) line += `,"msg":${JSON.stringify(msg)}`;
  return `${line}}\n`;
}

/** pino's `err` serializer: type, message and stack (with their causes), then the error's own fields. */
export function serializeError(err: unknown, seen: ReadonlySet<unknown> = new Set()): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { type: err.constructor.name, message: withCauses(err, (e) => e.message, ': '), stack: withCauses(err, (e) => e.stack ?? '', '\ncaused by: ') };
  if (err instanceof AggregateError) out.aggregateErrors = err.errors.map((e) => serializeError(e, new Set([...seen, err])));
  for (const [key, value] of Object.entries(err)) {
    if (key in out || key === 'cause') continue;
    out[key] = value instanceof Error && !seen.has(value) ? serializeError(value, new Set([...seen, err])) : value;
  }
  return out;
}

function withCauses(err: Error, part: (e: Error) => string, joiner: string): string {
  let text = part(err);
  const seen = new Set<unknown>([err]);
  for (let cause = err.cause; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause);
    text += `${joiner}${part(cause)}`;
  }
  return text;
}

/** JSON for any value: a circular or BigInt field must not cost the line. */
function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return JSON.stringify(String(value));
  }
}

function writeStderr(line: string): void {
  const bytes = Buffer.from(line);
  for (let at = 0, tries = 0; at < bytes.length && tries < 1000; tries++) {
    try {
      at += writeSync(2, bytes, at);
    } catch (err) {
      // A full non-blocking pipe: try again at once. Anything else (EPIPE, EBADF): a reader that
      // went away must not take PID 1 with it.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}
