/**
 * The bounded load of scripts/stack.sh's live-scaling demo, as a command:
 *
 *   node dist/test/containers/load-client.js [--url http://127.0.0.1:8080/] [--concurrency 8]
 *     [--rate 300] [--duration 300] [--every 1000] [--events FILE] [--summary FILE] [--timeline FILE]
 *
 * Sends keep-alive `GET /` without cookies (round-robin through HAProxy) until --duration
 * seconds have passed (at most 900) or it gets SIGTERM/SIGINT. Every --every ms it prints one
 * line: the answers and failures of that interval, the answers per node, and the nodes that
 * answered the latest requests in order (a sample). A node's first answer is printed as it comes
 * and appended to --events as "NODE EPOCH_MS"; at the end the totals go to stdout and, as JSON,
 * to --summary. --timeline gets one JSON line per interval: its end (epoch ms), answers, failures,
 * refused connections among them, and answers per node.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Load } from './load.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080/' },
    concurrency: { type: 'string', default: '8' },
    rate: { type: 'string', default: '0' },
    duration: { type: 'string', default: '300' },
    every: { type: 'string', default: '1000' },
    events: { type: 'string' },
    summary: { type: 'string' },
    timeline: { type: 'string' },
  },
});
const url = new URL(values.url);
if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
  console.error(`load-client: only 127.0.0.1 is a target here, not ${url.hostname}`);
  process.exit(2);
}

const load = new Load({
  url: url.href,
  concurrency: Math.max(1, Number(values.concurrency)),
  rate: Number(values.rate),
  durationMs: Math.min(Number(values.duration), 900) * 1000,
});

const secs = (): string => `${((Date.now() - load.startedAt) / 1000).toFixed(0).padStart(3)}s`;
let lastOk = 0;
let lastFailed = 0;
let lastRefused = 0;
let lastErrors = 0;
let lastByHost = new Map<string, number>();
const announced = new Set<string>();

function tick(): void {
  for (const [host, at] of load.firstSeen) {
    if (announced.has(host)) continue;
    announced.add(host);
    console.log(`  load ${secs()} | + ${host} answers (its first request at +${((at - load.startedAt) / 1000).toFixed(2)}s)`);
    if (values.events) appendFileSync(values.events, `${host} ${at}\n`);
  }
  const perHostCounts = [...load.byHost]
    .map(([host, n]) => [host, n - (lastByHost.get(host) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const perHost = perHostCounts.map(([host, n]) => `${host} ${n}`);
  const sample = load.recent.slice(-6).map((a) => a.host);
  const dOk = load.ok - lastOk;
  const dFailed = load.failed - lastFailed;
  console.log(
    `  load ${secs()} | ${String(dOk).padStart(4)} ok ${String(dFailed).padStart(2)} failed | ${perHost.join(', ') || '-'} | ` +
      `latest answers: ${sample.join(' ') || '-'} | total ${load.ok} ok, ${load.failed} failed`,
  );
  for (const e of load.errors.slice(lastErrors)) console.log(`  load ${secs()} | failed: ${e}`);
  if (values.timeline) {
    const line = { at: Date.now(), ok: dOk, failed: dFailed, refused: load.refused - lastRefused, byHost: Object.fromEntries(perHostCounts) };
    appendFileSync(values.timeline, `${JSON.stringify(line)}\n`);
  }
  lastRefused = load.refused;
  lastErrors = load.errors.length;
  lastOk = load.ok;
  lastFailed = load.failed;
  lastByHost = new Map(load.byHost);
}

const timer = setInterval(tick, Math.max(100, Number(values.every)));
const stop = (): void => void load.stop();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await load.finished();
clearInterval(timer);
const summary = await load.stop();
console.log(`  load: ${summary.ok} answered, ${summary.failed} failed (${summary.refused} refused, ${summary.reset} reset) in ${(summary.ms / 1000).toFixed(1)} s`);
if (values.summary) writeFileSync(values.summary, `${JSON.stringify(summary)}\n`);
process.exit(0);
