import { pino, type DestinationStream, type Logger } from 'pino';
import { ownPipeStream } from './console-stream.js';
import { DroppingWriter } from './dropping-writer.js';
import { prettyLine } from './pretty-log.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/** Queued log output beyond which warden's own lines are dropped (and counted). */
const MAX_QUEUED_BYTES = 1024 * 1024;

/** `WARDEN_LOG_FORMAT`, else pretty on a terminal and JSON lines everywhere else. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY === true): LogFormat {
  const chosen = env.WARDEN_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return isTTY ? 'pretty' : 'json';
}

/** What the log writes to: its lines as pino makes them, and pino's `flush`. */
type Sink = DestinationStream & { flush(cb: (err?: Error) => void): void };

/**
 * stderr as the log's sink. On a pipe or socket (a container's stderr) writes are asynchronous
 * and bounded, so a reader that stops reading can neither freeze nor bloat PID 1; `logger.flush`
 * waits for the queue before exit. On a terminal or a file they are synchronous, as they cannot
 * stall for long and the last lines before exit must not be lost.
 */
function stderrSink(): Sink {
  const pipe = ownPipeStream(2);
  if (pipe !== null) {
    const notice = (dropped: number): string =>
      `${JSON.stringify({ level: 40, time: Date.now(), name: 'warden', event: 'log-dropped', lines: dropped, msg: 'log-dropped: stderr was not read fast enough' })}\n`;
    return new DroppingWriter(pipe, MAX_QUEUED_BYTES, notice);
  }
  const destination = pino.destination({ fd: 2, sync: true });
  destination.on('error', () => {
    // A reader that went away must not take PID 1 with it.
  });
  return destination;
}

/** warden's own log on stderr: JSON lines, or one readable line each on a terminal. */
export function createLogger(level: string = process.env.WARDEN_LOG_LEVEL ?? 'info'): Logger {
  const sink = stderrSink();
  const out: Sink =
    logFormat() === 'pretty' ? { write: (line: string) => void sink.write(prettyLine(line)), flush: (cb) => sink.flush(cb) } : sink;
  // No base pid: `pid` in a line is always the service's process, never warden's own.
  return pino({ name: 'warden', level, base: null }, out);
}

/** Waits until the log's queued lines are out, for at most `ms`. */
export function flushLogger(logger: Logger, ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
    logger.flush(() => resolve());
  });
}
