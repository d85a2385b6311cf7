/** The HTTP listener of `WARDEN_METRICS_ADDR`: GET /metrics, nothing else. */
import type { Server } from 'node:http';
import { isIPv6 } from 'node:net';

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT` or `[V6]:PORT`; an error for people otherwise. */
export function parseMetricsAddress(text: string): MetricsAddress | string {
  const at = text.lastIndexOf(':');
  const portText = text.slice(at + 1);
  const port = Number(portText);
  let host = text.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (at <= 0 || !/^\d+$/.test(portText) || port < 1 || port > 65535 || host === '' || (host.includes(':') && !isIPv6(host))) {
    return `WARDEN_METRICS_ADDR=${JSON.stringify(text)}: expected HOST:PORT, e.g. 0.0.0.0:9100 or [::]:9100`;
  }
  return { host, port };
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Listens on `address`; `page` renders the text at each scrape. Rejects when it cannot listen. */
export async function serveMetrics(address: MetricsAddress, page: () => string): Promise<Server> {
  // Imported here, not at the top: the boot bundle hoists a top-level import of a lazily
  // imported module, and PID 1 without metrics must not load node:http.
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('warden serves /metrics only\n');
    } else {
      const body = page();
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  });
  // A scraper that stalls must not hold a connection (and an fd of PID 1) for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
