/**
 * The self-scaling stack's benchmark (issue 6), two apply methods side by side in one run:
 *
 *   runtime-api  warden's stack as shipped: the Serf handler changes servers through HAProxy's
 *                runtime API (master-worker HAProxy, reload only when more than servers changed)
 *   reload-sf    the lab's method: on every membership change the handler renders the config
 *                with all servers and starts a new `haproxy -D -p PIDFILE -f CFG -sf OLDPID`
 *                (STACK_APPLY=reload-sf, src/stack/serf-handler/reload-sf.ts and haproxy-sf)
 *
 * Each method gets its own cluster made with the cluster test's helpers (test/cluster/): network
 * namespaces only, warden as PID 1 of every node, real HAProxy, Serf and webapps; a balancer and
 * two base webapp nodes that stay. Under keep-alive load (the test's load client, inside the
 * balancer's namespace against its own 127.0.0.1:80), the bench runs cycles of scaling events:
 * start a webapp node (its warden), wait until it serves a request through the balancer, let it
 * serve DWELL ms, SIGTERM its warden, wait until it is out of HAProxy's rotation and has exited.
 * The methods take turns in blocks (A B B A A B B A …) so drift on the machine hits both alike;
 * only the active cluster carries load.
 *
 * Measured per method: node start → first request served through the balancer; SIGTERM → out of
 * rotation (as the serving HAProxy process's runtime API shows it); SIGTERM → the last answer
 * from that node seen by the load; failed requests, per 1 000 scaling events (add or remove).
 *
 * Run (root; `sh scripts/install-stack-deps.sh` first): `npx tsc -p . && node dist/bench/stack-scaling.js`.
 * Knobs: STACK_BENCH_MINUTES (per method, 8), STACK_BENCH_BLOCKS (per method, 4),
 * STACK_BENCH_MAX_CYCLES (per method, 240: the namespace's host numbers bound it),
 * STACK_BENCH_CONCURRENCY (16), STACK_BENCH_DWELL_MS (500), STACK_BENCH_METHODS
 * (runtime-api,reload-sf; also reload-sf-plain: the lab method with the template's retry /
 * redispatch / idle-close lines removed), STACK_BENCH_DOCS (1: write the results into docs/benchmarks.md),
 * STACK_BENCH_KEEP (1: keep the nodes' logs).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BALANCER_HOST, Cluster } from '../test/cluster/cluster.js';
import { Load } from '../test/cluster/load.js';
import { removeStaleNamespaces } from '../test/cluster/netns.js';
import { eventually, REPO_ROOT, StackNode } from '../test/cluster/stack-node.js';
import { writeDocSection, type DocSection } from './doc-section.js';
import { describeMachine } from './machine.js';
import { median, ms, p95 } from './stats.js';
import { envInt } from './env.js';

type Method = 'runtime-api' | 'reload-sf' | 'reload-sf-plain';
const METHODS: readonly Method[] = ['runtime-api', 'reload-sf', 'reload-sf-plain'];

const LABELS: Record<Method, string> = {
  'runtime-api': 'warden: runtime API',
  'reload-sf': 'lab: new haproxy -sf',
  'reload-sf-plain': 'lab: -sf, no retry lines',
};
const TAGS: Record<Method, string> = { 'runtime-api': 'ra', 'reload-sf': 'sf', 'reload-sf-plain': 'sp' };
/** reload-sf-plain: the template without the lines that retry or redispatch a request, nearer the lab's own config. */
const RETRY_LINES = /^\s*(retries|option redispatch|retry-on|option idle-close-on-response)\b.*\n/gm;
const FRONTEND = 'http://127.0.0.1:80/';
const BASE = ['web1', 'web2'];
/** Cluster hosts are 10.77.0.10 and up (≤ 254): two base nodes, then one per cycle. */
const HOST_LIMIT = 240;

function settings() {
  const methods = (process.env.STACK_BENCH_METHODS || 'runtime-api,reload-sf').split(',').map((m) => m.trim());
  for (const m of methods) if (!METHODS.includes(m as Method)) throw new Error(`STACK_BENCH_METHODS: unknown method ${m} (${METHODS.join(', ')})`);
  const minutes = Number(process.env.STACK_BENCH_MINUTES || 8);
  if (!(minutes > 0 && minutes <= 60)) throw new Error(`STACK_BENCH_MINUTES=${process.env.STACK_BENCH_MINUTES}: expected 0 < minutes ≤ 60`);
  return {
    methods: methods as Method[],
    minutes,
    blocks: envInt('STACK_BENCH_BLOCKS', 4, 1),
    maxCycles: Math.min(envInt('STACK_BENCH_MAX_CYCLES', HOST_LIMIT, 1), HOST_LIMIT),
    concurrency: envInt('STACK_BENCH_CONCURRENCY', 16, 1),
    dwellMs: envInt('STACK_BENCH_DWELL_MS', 500, 0),
    docs: process.env.STACK_BENCH_DOCS !== '0',
    keep: process.env.STACK_BENCH_KEEP === '1',
  };
}
type Settings = ReturnType<typeof settings>;

const progress = (message: string): void => void process.stderr.write(`stack-bench: ${message}\n`);

interface Cycle {
  readonly name: string;
  readonly startToServedMs: number;
  readonly stopToOutMs: number;
  /** SIGTERM → the last answer from the node that the load saw (100 ms reports). */
  readonly stopToLastAnswerMs: number;
  readonly failedOnAdd: number;
  readonly failedOnRemove: number;
  readonly exitCode: number | null;
}

interface MethodRun {
  readonly method: Method;
  readonly cluster: Cluster;
  readonly cycles: Cycle[];
  /** Cycles that did not complete (timeouts), with the reason. */
  readonly broken: string[];
  requests: number;
  failed: number;
  loadMs: number;
  readonly failures: string[];
  maxHaproxyProcesses: number;
  nextIndex: number;
}

/** The balancer of `method`: the cluster test's, plus the lab's apply mode for reload-sf. */
function startBalancer(cluster: Cluster, method: Method): StackNode {
  if (method === 'runtime-api') return cluster.startBalancer();
  if (method === 'reload-sf-plain') {
    const file = join(cluster.templateDir, 'haproxy.cfg.hbs');
    const text = readFileSync(file, 'utf8');
    const plain = text.replace(RETRY_LINES, '');
    if (text.match(RETRY_LINES)?.length !== 4) throw new Error(`${file}: expected 4 retry lines to remove`);
    writeFileSync(file, plain);
  }
  // Cluster.startBalancer takes no extra environment: the same node, made here with the switch.
  // The lab starts each new HAProxy from the handler, which holds none of the sockets warden
  // keeps for the haproxy service: its HAProxy binds the ports itself, without the `listen` file.
  const services = join(cluster.dir, 'services.d');
  cpSync(join(REPO_ROOT, 'services.d'), services, { recursive: true });
  rmSync(join(services, 'balancer/haproxy/listen'));
  const net = cluster.net.addNode('balancer', BALANCER_HOST);
  const node = new StackNode({
    name: 'balancer',
    role: 'balancer',
    net,
    dir: join(cluster.dir, 'balancer'),
    servicesDir: join(services, 'balancer'),
    env: {
      STACK_TEMPLATE_DIR: cluster.templateDir,
      HAPROXY_HTTP_BIND: ':80',
      HAPROXY_STATS_BIND: ':1936',
      STACK_DRAIN_TIMEOUT_MS: '5000',
      STACK_APPLY: 'reload-sf',
      HAPROXY_BIN: join(REPO_ROOT, 'src/stack/serf-handler/haproxy-sf'),
      HAPROXY_SF_BIN: haproxyPath(),
    },
  });
  cluster.nodes.set('balancer', node);
  return node;
}

function haproxyPath(): string {
  for (const p of ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy']) if (existsSync(p)) return p;
  return 'haproxy';
}

/** Number of haproxy processes in the balancer's network namespace now (old ones still draining included). */
function haproxyProcesses(cluster: Cluster): number {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', cluster.balancer.opts.net.ns], { encoding: 'utf8', timeout: 5000 }).split('\n').filter((l) => /^\d+$/.test(l));
    return pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'haproxy';
      } catch {
        return false;
      }
    }).length;
  } catch {
    return -1;
  }
}

/** Makes the method's cluster (added to `runs` at once, so that cleanup finds it) and waits for its base. */
async function setUp(method: Method, tag: string, runs: MethodRun[]): Promise<void> {
  const cluster = new Cluster(tag);
  const run: MethodRun = { method, cluster, cycles: [], broken: [], requests: 0, failed: 0, loadMs: 0, failures: [], maxHaproxyProcesses: 0, nextIndex: 1 };
  runs.push(run);
  const balancer = startBalancer(cluster, method);
  await balancer.waitReady('haproxy', 30_000);
  for (const name of BASE) cluster.startBackend(name);
  await cluster.waitForRotation(BASE, 60_000);
  progress(`${LABELS[method]}: balancer and ${BASE.join(', ')} up (${cluster.dir})`);
}

/** performance.now() when each host's answer count last grew, from the load's 100 ms reports. */
class AnswerClock {
  readonly lastGrew = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(load: Load) {
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const [host, count] of Object.entries(load.last.byHost)) {
        if (this.counts.get(host) !== count) {
          this.counts.set(host, count);
          this.lastGrew.set(host, now);
        }
      }
    }, 10);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** One add + graceful remove under `load`. */
async function cycle(run: MethodRun, load: Load, clock: AnswerClock, s: Settings): Promise<void> {
  const { cluster } = run;
  const name = `${TAGS[run.method]}${run.nextIndex++}`;
  const failedAtStart = load.last.failed;
  const node = cluster.startBackend(name);
  try {
    await eventually(`${name} answering through the balancer`, () => load.servedBy(name) > 0, 30_000, 10);
  } catch (err) {
    run.broken.push(`${name}: not served within 30 s (${(err as Error).message.split(';')[0]})`);
    await node.kill();
    cluster.removeNet(name);
    return;
  }
  const startToServedMs = load.firstSeen.get(name)! - node.startedAt;
  await sleep(s.dwellMs);
  run.maxHaproxyProcesses = Math.max(run.maxHaproxyProcesses, haproxyProcesses(cluster));
  const failedAtStop = load.last.failed;

  const t0 = performance.now();
  await node.signal('SIGTERM');
  let stopToOutMs = NaN;
  try {
    // Out of rotation in the HAProxy process that serves now; an answer without the base
    // servers (a process being replaced) does not count as "out".
    await eventually(
      `${name} out of rotation`,
      async () => {
        const rotation = await cluster.inRotation();
        return BASE.every((b) => rotation.includes(b)) && !rotation.includes(name);
      },
      20_000,
      10,
    );
    stopToOutMs = performance.now() - t0;
  } catch {
    run.broken.push(`${name}: still in rotation 20 s after SIGTERM`);
  }
  let exitCode: number | null = null;
  try {
    exitCode = (await node.waitForExit(30_000)).code;
  } catch {
    run.broken.push(`${name}: warden did not exit within 30 s of SIGTERM`);
    await node.kill();
  }
  cluster.removeNet(name);
  run.maxHaproxyProcesses = Math.max(run.maxHaproxyProcesses, haproxyProcesses(cluster));
  // The load reports every 100 ms: let the last answers and failures of this cycle arrive.
  await sleep(250);
  const lastAnswer = clock.lastGrew.get(name) ?? t0;
  run.cycles.push({
    name,
    startToServedMs,
    stopToOutMs,
    stopToLastAnswerMs: Math.max(0, lastAnswer - t0),
    failedOnAdd: failedAtStop - failedAtStart,
    failedOnRemove: load.last.failed - failedAtStop,
    exitCode,
  });
}

async function block(run: MethodRun, blockMs: number, s: Settings): Promise<void> {
  const { cluster } = run;
  const load = new Load(cluster.balancer.opts.net.ns, FRONTEND, s.concurrency, blockMs + 120_000);
  const clock = new AnswerClock(load);
  const loadStart = performance.now();
  try {
    await eventually('load running', () => load.last.ok > 50, 15_000);
    const deadline = performance.now() + blockMs;
    const before = run.cycles.length;
    while (performance.now() < deadline && run.nextIndex <= s.maxCycles) await cycle(run, load, clock, s);
    await sleep(500);
    const final = await load.stop();
    run.requests += final.ok + final.failed;
    run.failed += final.failed;
    run.loadMs += performance.now() - loadStart;
    run.failures.push(...load.errors);
    progress(
      `${LABELS[run.method]}: block done, ${run.cycles.length - before} cycles (${run.cycles.length} in all), ` +
        `${final.ok + final.failed} requests, ${final.failed} failed`,
    );
  } finally {
    clock.stop();
    load.kill();
  }
}

interface Summary {
  readonly method: Method;
  readonly events: number;
  readonly served: { median: number; p95: number; min: number; max: number };
  readonly out: { median: number; p95: number; min: number; max: number };
  readonly lastAnswer: { median: number; p95: number; min: number; max: number };
  readonly requests: number;
  readonly failed: number;
  readonly failedOnAdd: number;
  readonly failedOnRemove: number;
  readonly perThousand: number;
  readonly rps: number;
  readonly handlerMs: { median: number; p95: number; n: number };
  readonly badExits: number;
  readonly broken: readonly string[];
  readonly maxHaproxyProcesses: number;
  readonly failureSample: readonly string[];
}

function spread(xs: readonly number[]) {
  const v = xs.filter(Number.isFinite);
  return { median: median(v), p95: p95(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN };
}

function summarize(run: MethodRun): Summary {
  const c = run.cycles;
  const events = c.length * 2;
  const handler = run.cluster.balancer
    .find((e) => e.service === 'serf-handler' && e.event === 'reconciled' && (e.kind === 'applied' || e.kind === 'replaced'))
    .map((e) => Number(e.ms))
    .filter(Number.isFinite);
  return {
    method: run.method,
    events,
    served: spread(c.map((x) => x.startToServedMs)),
    out: spread(c.map((x) => x.stopToOutMs)),
    lastAnswer: spread(c.map((x) => x.stopToLastAnswerMs)),
    requests: run.requests,
    failed: run.failed,
    failedOnAdd: c.reduce((a, x) => a + x.failedOnAdd, 0),
    failedOnRemove: c.reduce((a, x) => a + x.failedOnRemove, 0),
    perThousand: events === 0 ? NaN : (run.failed / events) * 1000,
    rps: run.loadMs > 0 ? run.requests / (run.loadMs / 1000) : NaN,
    handlerMs: { median: median(handler), p95: p95(handler), n: handler.length },
    badExits: c.filter((x) => x.exitCode !== 0).length,
    broken: run.broken,
    maxHaproxyProcesses: run.maxHaproxyProcesses,
    failureSample: run.failures.slice(0, 8),
  };
}

const ratio = (value: number, base: number): string => (Number.isFinite(value) && Number.isFinite(base) && base !== 0 ? `${(value / base).toFixed(2)}×` : 'n/a');
const num = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

function tableRows(sums: readonly Summary[]): string[][] {
  const head = [
    'method',
    'events (add+remove)',
    'start → served median ms',
    'p95',
    'SIGTERM → out of rotation median ms',
    'p95',
    'SIGTERM → last answer median ms',
    'p95',
    'requests',
    'failed (add / remove)',
    'failed per 1 000 events',
  ];
  const rows = sums.map((x) => [
    LABELS[x.method],
    `${x.events}`,
    ms(x.served.median),
    ms(x.served.p95),
    ms(x.out.median),
    ms(x.out.p95),
    ms(x.lastAnswer.median),
    ms(x.lastAnswer.p95),
    `${x.requests}`,
    `${x.failed} (${x.failedOnAdd} / ${x.failedOnRemove})`,
    num(x.perThousand),
  ]);
  const base = sums.find((x) => x.method === 'runtime-api');
  for (const lab of sums) {
    if (base === undefined || lab === base) continue;
    rows.push([
      `${LABELS[lab.method].replace(/^lab: /, '')} ÷ warden`,
      '',
      ratio(lab.served.median, base.served.median),
      ratio(lab.served.p95, base.served.p95),
      ratio(lab.out.median, base.out.median),
      ratio(lab.out.p95, base.out.p95),
      ratio(lab.lastAnswer.median, base.lastAnswer.median),
      ratio(lab.lastAnswer.p95, base.lastAnswer.p95),
      '',
      '',
      base.perThousand === 0 ? (lab.perThousand === 0 ? 'both 0' : `${num(lab.perThousand)} vs 0`) : ratio(lab.perThousand, base.perThousand),
    ]);
  }
  return [head, ...rows];
}

function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows;
  const align = head!.map((_, i) => (i === 0 ? '---' : '---:'));
  return [head!, align, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');

function goalsRows(sums: readonly Summary[]): string[][] {
  const rows = [['method', 'start → served ≤ 2 s (median / p95)', 'graceful stop → out ≤ 1 s (median / p95)', '0 failed per 1 000 events']];
  for (const x of sums) {
    rows.push([
      LABELS[x.method],
      `${verdict(x.served.median <= 2000)} / ${verdict(x.served.p95 <= 2000)}`,
      `${verdict(x.out.median <= 1000)} / ${verdict(x.out.p95 <= 1000)}`,
      verdict(x.failed === 0),
    ]);
  }
  return rows;
}

function detailLines(sums: readonly Summary[]): string[] {
  const lines: string[] = [];
  for (const x of sums) {
    lines.push(
      `- ${LABELS[x.method]}: start → served ${ms(x.served.min)}–${ms(x.served.max)} ms; SIGTERM → out ${ms(x.out.min)}–${ms(x.out.max)} ms; ` +
        `SIGTERM → last answer ${ms(x.lastAnswer.min)}–${ms(x.lastAnswer.max)} ms; load ${num(x.rps, 0)} requests/s; ` +
        `handler pass (member change seen → applied) median ${ms(x.handlerMs.median)} ms, p95 ${ms(x.handlerMs.p95)} ms over ${x.handlerMs.n} passes; ` +
        `at most ${x.maxHaproxyProcesses} haproxy processes seen at once on the balancer; nodes that did not exit 0: ${x.badExits}` +
        (x.broken.length > 0 ? `; incomplete cycles: ${x.broken.join('; ')}` : ''),
    );
    if (x.failureSample.length > 0) lines.push(`  - first failures (load client's time, reason): ${x.failureSample.join('; ')}`);
  }
  return lines;
}

function versions(): string {
  const out = (file: string, args: string[]): string => {
    try {
      return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
    } catch {
      return `${file}: unknown`;
    }
  };
  return `${out(haproxyPath(), ['-v']).replace(/ - https.*$/, '')}; Serf ${out('serf', ['version']).replace(/^Serf v?/, '')}`;
}

const SECTION: DocSection = { name: 'stack-scaling', heading: '## The stack: scaling events', writer: '`npm run bench:stack` (bench/stack-scaling.ts)' };

function resultsMarkdown(sums: readonly Summary[], s: Settings, started: Date, wallMs: number): string {
  const m = describeMachine();
  return [
    `Run of ${m.date} (started ${started.toISOString()}, ${Math.round(wallMs / 60_000)} min): ${m.cpus} × ${m.model}, ${m.memory}, ` +
      `kernel ${m.kernel}, Node ${m.node}, ${versions()}. Load: ${s.concurrency} keep-alive connections, no cookies; ` +
      `${s.minutes} min per method in ${s.blocks} alternating blocks; each node served ${s.dwellMs} ms before its SIGTERM.`,
    '',
    markdownTable(tableRows(sums)),
    '',
    markdownTable(goalsRows(sums)),
    '',
    ...detailLines(sums),
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network and PID namespaces)');
  for (const bin of ['haproxy', 'serf', 'ip', 'unshare']) {
    try {
      execFileSync('sh', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${bin} is missing: run sh scripts/install-stack-deps.sh`);
    }
  }
  const s = settings();
  const stale = removeStaleNamespaces();
  if (stale.length > 0) progress(`removed stale namespaces: ${stale.join(' ')}`);
  const started = new Date();
  const t0 = performance.now();
  const runs: MethodRun[] = [];
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    progress('interrupted: cleaning up');
    void Promise.all(runs.map((r) => r.cluster.destroy(s.keep))).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (const [i, method] of s.methods.entries()) await setUp(method, `b${i}`, runs);
    const blockMs = (s.minutes * 60_000) / s.blocks;
    // The load client stops by itself after 600 s at most.
    if (blockMs + 120_000 > 600_000) throw new Error(`blocks of ${Math.round(blockMs / 1000)} s are too long: raise STACK_BENCH_BLOCKS`);
    for (let b = 0; b < s.blocks; b++) {
      // A B, B A, A B …: each method runs first as often as second.
      const order = b % 2 === 0 ? runs : [...runs].reverse();
      for (const run of order) {
        if (run.nextIndex > s.maxCycles) continue;
        progress(`block ${b + 1}/${s.blocks}: ${LABELS[run.method]} for ${Math.round(blockMs / 1000)} s`);
        await block(run, blockMs, s);
      }
    }
    const sums = runs.map(summarize);
    const rows = tableRows(sums);
    process.stdout.write(`\n${textTable(rows)}\n\n${textTable(goalsRows(sums))}\n\n${detailLines(sums).join('\n')}\n`);
    if (s.docs) progress(`wrote ${writeDocSection(SECTION, resultsMarkdown(sums, s, started, performance.now() - t0))}`);
    if (s.keep) for (const r of runs) progress(`${LABELS[r.method]}: node logs kept in ${r.cluster.dir}`);
  } finally {
    for (const r of runs) await r.cluster.destroy(s.keep);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`stack-bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
