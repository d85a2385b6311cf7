/**
 * The lab's webapp on node:http: `GET /` answers who served it (JSON and `x-backend-ip`), with a
 * per-session view counter; `POST /delay` sets an artificial response delay for load demos.
 * `stop()` is the graceful half of SIGTERM, in the order a balanced node needs: first wait until
 * the balancer has taken it out of rotation (no new request for a quiet period; meanwhile it still
 * accepts and answers, each answer closing its connection), then stop accepting, finish in-flight
 * requests, close idle keep-alive sockets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { networkInterfaces, hostname } from 'node:os';
import { cookieValue, SessionStore } from './sessions.js';

export const SESSION_COOKIE = 'NODESESSID';

export interface WebappOptions {
  /** The node's name (`host` in the answer). */
  readonly host: string;
  /** The node's address (`ip` and `x-backend-ip`). */
  readonly ip: string;
  /** A free label from the environment (`TAG`), e.g. the image version. */
  readonly tag: string;
  readonly sessionLimit?: number;
  /** Max bytes of a request body (POST /delay). */
  readonly maxBody?: number;
}

export interface Webapp {
  readonly server: Server;
  /** The artificial delay of every `GET /` answer, in ms. */
  readonly delayMs: () => number;
  /**
   * Graceful stop: waits until no request arrived for `quietMs` (the balancer stopped sending),
   * then closes; resolves once every connection is closed, or after `deadlineMs` (from the call)
   * with the rest destroyed.
   */
  stop(deadlineMs: number, quietMs?: number): Promise<{ graceful: boolean; quietAfterMs: number }>;
}

/** Builds the webapp's server; the caller listens on it. */
export function createWebapp(opts: WebappOptions): Webapp {
  const sessions = new SessionStore(opts.sessionLimit);
  const maxBody = opts.maxBody ?? 1024;
  let delayMs = 0;
  let stopping = false;
  let lastRequestAt = performance.now();

  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-backend-ip': opts.ip,
      // Once stopping, every answer ends its connection, so keep-alive clients move on cleanly.
      ...(stopping ? { connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  };

  const home = (req: IncomingMessage, res: ServerResponse): void => {
    const { session, isNew } = sessions.visit(cookieValue(req.headers.cookie, SESSION_COOKIE));
    const body = { hello: 'world', ip: opts.ip, host: opts.host, tag: opts.tag, sessionViews: session.views, id: session.id };
    const headers: Record<string, string> = isNew ? { 'set-cookie': `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly` } : {};
    const send = (): void => {
      if (!res.destroyed) answer(res, 200, body, headers);
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  };

  const setDelay = (req: IncomingMessage, res: ServerResponse): void => {
    let text = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > maxBody) tooLarge = true;
    });
    req.on('end', () => {
      const ms = Number(text.trim());
      if (tooLarge || text.trim() === '' || !Number.isInteger(ms) || ms < 0 || ms > 600_000) {
        answer(res, 400, { error: 'POST /delay takes a whole number of milliseconds (0–600000) as its body' });
        return;
      }
      delayMs = ms;
      answer(res, 200, { delay: ms, host: opts.host });
    });
  };

  const server = createServer((req, res) => {
    lastRequestAt = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return home(req, res);
    if (path === '/delay' && req.method === 'POST') return setDelay(req, res);
    answer(res, 404, { error: `no route ${req.method ?? '?'} ${path ?? ''}` });
  });
  // HAProxy keeps idle server connections for reuse; let it decide when to close them.
  server.keepAliveTimeout = 65_000;

  return {
    server,
    delayMs: () => delayMs,
    async stop(deadlineMs, quietMs = 0) {
      stopping = true;
      const t0 = performance.now();
      // Out of rotation first: a listener closed while the balancer still sends here would turn
      // requests into connection errors for it to retry.
      for (;;) {
        const quietFor = performance.now() - lastRequestAt;
        const left = deadlineMs - (performance.now() - t0);
        if (quietFor >= quietMs || left <= 0) break;
        await new Promise((r) => setTimeout(r, Math.min(quietMs - quietFor, left) + 1));
      }
      const quietAfterMs = Math.round(performance.now() - t0);
      return new Promise((resolve) => {
        const timer = setTimeout(
          () => {
            server.closeAllConnections();
            resolve({ graceful: false, quietAfterMs });
          },
          Math.max(0, deadlineMs - (performance.now() - t0)),
        );
        timer.unref();
        // close() stops accepting and (Node ≥ 19) closes the idle keep-alive sockets; busy ones
        // close after their answer (`connection: close`), then the callback runs.
        server.close(() => {
          clearTimeout(timer);
          resolve({ graceful: true, quietAfterMs });
        });
        server.closeIdleConnections();
      });
    },
  };
}

/** The first non-internal IPv4 address of this host (the container's or namespace's), or 127.0.0.1. */
export function ownAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The node's name: `HOSTNAME` (set in containers), else the kernel's. */
export function ownName(env: Readonly<Record<string, string | undefined>>): string {
  return env.HOSTNAME || hostname();
}
