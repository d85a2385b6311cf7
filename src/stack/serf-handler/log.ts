/** The handler's log: pino JSON lines on stderr, which warden captures into the container's log. */
import pino, { type Logger } from 'pino';

export function handlerLogger(env: Readonly<Record<string, string | undefined>>): Logger {
  return pino({ base: { service: 'serf-handler', pid: process.pid }, level: env.STACK_LOG_LEVEL || 'info' }, pino.destination({ fd: 2, sync: true }));
}
