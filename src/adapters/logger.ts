import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyLine } from './pretty-log.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/** `WARDEN_LOG_FORMAT`, else pretty on a terminal and JSON lines everywhere else. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY === true): LogFormat {
  const chosen = env.WARDEN_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return isTTY ? 'pretty' : 'json';
}

/**
 * warden's own log on stderr. Writes are synchronous so that the last lines before PID 1
 * exits are never lost, and a closed stderr cannot make warden crash.
 */
export function createLogger(level: string = process.env.WARDEN_LOG_LEVEL ?? 'info'): Logger {
  const destination = pino.destination({ fd: 2, sync: true });
  destination.on('error', () => {
    // A reader that went away must not take PID 1 with it.
  });
  const out: DestinationStream =
    logFormat() === 'pretty' ? { write: (line: string) => void destination.write(prettyLine(line)) } : destination;
  // No base pid: `pid` in a line is always the service's process, never warden's own.
  return pino({ name: 'warden', level, base: null }, out);
}
