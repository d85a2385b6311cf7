/**
 * Entry of the webapp service: listens on PORT (3000), reports readiness on NOTIFY_FD (s6
 * notification-fd) once listening, and on SIGTERM stops gracefully and exits 0.
 *
 * Env: PORT, HOST_BIND (default all addresses), TAG, HOSTNAME, BACKEND_IP (else the first
 * non-internal IPv4), NOTIFY_FD, STOP_TIMEOUT_MS (default 10000), STOP_QUIET_MS (default 500: on
 * SIGTERM, keep answering until no request came for this long, i.e. the balancer took the node
 * out of rotation, before closing).
 */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { createWebapp, ownAddress, ownName } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const stopTimeoutMs = Number(env.STOP_TIMEOUT_MS ?? 10_000);
const stopQuietMs = Number(env.STOP_QUIET_MS ?? 500);
const app = createWebapp({ host: ownName(env), ip: env.BACKEND_IP || ownAddress(), tag: env.TAG ?? '' });

const log = (event: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ time: Date.now(), service: 'webapp', event, ...fields })}\n`);
};

/** s6 readiness: one newline on the notification fd, then close it. Only when it is a pipe we were given. */
function notifyReady(): void {
  const fd = Number(env.NOTIFY_FD);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    // warden (libuv) hands a socketpair; s6 a pipe.
    const stat = fstatSync(fd);
    if (!stat.isFIFO() && !stat.isSocket()) return;
    writeSync(fd, '\n');
    closeSync(fd);
  } catch {
    // Not open: nobody waits for readiness.
  }
}

app.server.on('error', (err) => {
  log('listen-failed', { port, error: err.message });
  process.exit(111);
});
app.server.listen(port, env.HOST_BIND || undefined, () => {
  log('listening', { port, host: ownName(env) });
  notifyReady();
});

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log('stopping', { signal });
  void app.stop(stopTimeoutMs, stopQuietMs).then(({ graceful, quietAfterMs }) => {
    log('stopped', { graceful, quietAfterMs });
    process.exit(0);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
