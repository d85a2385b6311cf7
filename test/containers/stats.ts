/**
 * HAProxy's server table from its stats page (`/;csv`), as the stack's balancer publishes it
 * (127.0.0.1:1936 by scripts/stack.sh, a free port in the container test).
 */
import { get } from 'node:http';

export interface ServerRow {
  readonly backend: string;
  readonly name: string;
  readonly status: string;
  readonly addr: string;
  readonly current: number;
  readonly total: number;
  readonly check: string;
  readonly lastChangeS: number;
  readonly retries: number;
  readonly redispatches: number;
}

function fetchText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode ?? '?'}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The servers of BACKEND (default: the stack's `webapps`), plus its BACKEND summary row. */
export async function serverTable(statsUrl: string, backend = 'webapps', timeoutMs = 3000): Promise<ServerRow[]> {
  const csv = await fetchText(statsUrl.replace(/\/?$/, '/;csv'), timeoutMs);
  const [header = '', ...lines] = csv.split('\n');
  const cols = header.replace(/^#\s*/, '').split(',');
  const at = (name: string): number => cols.indexOf(name);
  const rows: ServerRow[] = [];
  for (const line of lines) {
    const f = line.split(',');
    if (f[at('pxname')] !== backend) continue;
    const num = (name: string): number => Number(f[at(name)] || 0);
    rows.push({
      backend,
      name: f[at('svname')] ?? '?',
      status: f[at('status')] ?? '?',
      addr: at('addr') >= 0 ? (f[at('addr')] ?? '') : '',
      current: num('scur'),
      total: num('stot'),
      check: f[at('check_status')] ?? '',
      lastChangeS: num('lastchg'),
      retries: num('wretr'),
      redispatches: num('wredis'),
    });
  }
  return rows;
}

/** The table as aligned text lines. */
export function formatTable(rows: readonly ServerRow[]): string[] {
  const head = ['server', 'address', 'status', 'check', 'sessions', 'total', 'retries', 'redisp', 'since'];
  const body = rows.map((r) => [
    r.name === 'BACKEND' ? '(backend)' : r.name,
    r.addr,
    r.status,
    r.check,
    String(r.current),
    String(r.total),
    String(r.retries),
    String(r.redispatches),
    r.name === 'BACKEND' ? '' : `${r.lastChangeS}s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}
