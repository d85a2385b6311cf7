import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * warden's own log: pino JSON lines on stderr. Writes are synchronous so that the last lines
 * before PID 1 exits are never lost, and a closed stderr cannot make warden crash.
 */
export function createLogger(level: string = process.env.WARDEN_LOG_LEVEL ?? 'info'): Logger {
  const destination = pino.destination({ fd: 2, sync: true });
  destination.on('error', () => {
    // A reader that went away must not take PID 1 with it.
  });
  return pino({ name: 'warden', level, base: { pid: process.pid } }, destination);
}
