/**
 * A bounded keep-alive load loop, run inside the balancer's network namespace by the cluster
 * test: CONCURRENCY workers send `GET /` to URL over keep-alive connections (no cookies, so
 * HAProxy balances round-robin) until DURATION_MS has passed, stdin closes, or SIGTERM. Every
 * REPORT_MS it prints one JSON line of cumulative counts: ok, failed, answers per backend host,
 * and the new failures' reasons. Of the failed, `refused` are connections refused (ECONNREFUSED:
 * nothing listened) and `reset` requests whose connection was open and then died under them
 * (ECONNRESET, EPIPE: the process that held it was gone).
 *
 * usage: load-client.js URL CONCURRENCY DURATION_MS [REPORT_MS]
 */
import { Agent, request } from 'node:http';

const [url = 'http://127.0.0.1/', concurrencyArg = '8', durationArg = '60000', reportArg = '100'] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const durationMs = Math.min(Number(durationArg), 600_000);
const reportMs = Number(reportArg);
const REQUEST_TIMEOUT_MS = 10_000;

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const started = performance.now();
let stopped = false;
let ok = 0;
let failed = 0;
let refused = 0;
let reset = 0;
const byHost: Record<string, number> = {};
let newErrors: string[] = [];

const elapsed = (): number => Math.round(performance.now() - started);

function once(): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const fail = (reason: string, code?: string): void => {
      if (settled) return;
      settled = true;
      failed++;
      if (code === 'ECONNREFUSED') refused++;
      else if (code === 'ECONNRESET' || code === 'EPIPE') reset++;
      if (newErrors.length < 20) newErrors.push(`${elapsed()}ms ${reason}`);
      resolve();
    };
    const req = request(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', (err) => fail(`response ${err.message}`));
      res.on('end', () => {
        if (settled) return;
        if (res.statusCode !== 200) return fail(`status ${res.statusCode ?? '?'} ${body.slice(0, 80).replace(/\s+/g, ' ')}`);
        let host = '?';
        try {
          const parsed = JSON.parse(body) as { host?: unknown };
          if (typeof parsed.host === 'string') host = parsed.host;
        } catch {
          return fail(`not JSON: ${body.slice(0, 80)}`);
        }
        settled = true;
        ok++;
        byHost[host] = (byHost[host] ?? 0) + 1;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message, err.code));
    req.end();
  });
}

async function worker(): Promise<void> {
  while (!stopped && performance.now() - started < durationMs) await once();
}

function report(final: boolean): void {
  process.stdout.write(`${JSON.stringify({ t: elapsed(), ok, failed, refused, reset, byHost, errors: newErrors, final })}\n`);
  newErrors = [];
}

const timer = setInterval(() => report(false), reportMs);
const stop = (): void => {
  stopped = true;
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

await Promise.all(Array.from({ length: concurrency }, () => worker()));
clearInterval(timer);
report(true);
agent.destroy();
process.exit(0);
