/**
 * Entry of the webapp service: serves on the socket warden holds for it (fd 3, its `listen`
 * file) or else listens on PORT (3000), reports readiness on NOTIFY_FD (s6 notification-fd) once
 * serving, and on SIGTERM stops gracefully and exits 0.
 *
 * Env: LISTEN_FDS / LISTEN_PID (the held socket, as warden and systemd pass it), PORT (the port
 * to listen on without one; with one, the port it must be on, since the node advertises PORT to
 * the balancer), HOST_BIND (default all addresses), TAG, HOSTNAME, BACKEND_IP (else the first
 * non-internal IPv4), NOTIFY_FD, STOP_TIMEOUT_MS (default 10000), STOP_QUIET_MS (default 500: on
 * SIGTERM, keep answering until no request came for this long, i.e. the balancer took the node
 * out of rotation, before closing).
 */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
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

/**
 * The first held socket (fd 3) when warden (or systemd) passed any to this process: LISTEN_PID
 * is ours, or absent (an image without /bin/sh gets no LISTEN_PID).
 */
function heldSocket(): number | null {
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return null;
  if (env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) !== process.pid) return null;
  return 3;
}

const held = heldSocket();
app.server.on('error', (err) => {
  log('listen-failed', held === null ? { port, error: err.message } : { fd: held, error: err.message });
  process.exit(111);
});
const onListening = (): void => {
  const bound = (app.server.address() as AddressInfo | null)?.port;
  if (held !== null && bound !== port) {
    // The node advertises PORT: the balancer would send where nothing listens.
    log('listen-failed', { fd: held, port: bound, error: `the held socket is on port ${bound}, PORT is ${port}: make the service's listen file and WEBAPP_PORT agree` });
    process.exit(111);
  }
  log('listening', { port: bound, host: ownName(env), ...(held === null ? {} : { fd: held }) });
  notifyReady();
};
// On the held socket a restarted webapp takes up the connections that queued while it was down:
// none is refused, so the balancer never sees this node fail to connect.
if (held !== null) app.server.listen({ fd: held }, onListening);
else app.server.listen(port, env.HOST_BIND || undefined, onListening);

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
