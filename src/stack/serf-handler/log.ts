/**
 * The handler's log: pino JSON lines on `STACK_LOG_FD` when it is open, else stderr. Serf keeps
 * a handler's own output to itself (shown only at its debug level), so the serf service's run
 * script opens fd 8 on warden's stderr and sets STACK_LOG_FD=8: then the handler's lines reach
 * the container log like every service's.
 */
import { fstatSync } from 'node:fs';
import pino, { type Logger } from 'pino';

export function handlerLogger(env: Readonly<Record<string, string | undefined>>): Logger {
  let fd = 2;
  const wanted = Number(env.STACK_LOG_FD);
  if (Number.isInteger(wanted) && wanted > 2) {
    try {
      fstatSync(wanted);
      fd = wanted;
    } catch {
      // Not open here: stderr.
    }
  }
  return pino(
    { base: { service: 'serf-handler', pid: process.pid }, level: env.STACK_LOG_LEVEL || 'info' },
    pino.destination({ fd, sync: true }),
  );
}
