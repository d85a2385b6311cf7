/**
 * Draws the benchmarks' SVG charts into docs/charts/ from what the benches stored: the raw
 * samples in docs/data/ (restart latency, and boot once a full run has kept it: bench/samples.ts),
 * the tables in docs/benchmarks.md (boot, RSS, log throughput, the stack's scaling), and the live
 * stack's time series (docs/data/stack-timeline.json, from `STACK_TIMELINE=FILE bash
 * scripts/stack.sh`). Run at the end of `npm run bench` and `npm run bench:stack`, or alone from
 * the stored data: `npm run charts`. What is not there is skipped with a line saying so.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { repoRoot } from './doc-section.js';
import { column, num, tableRows, type Table } from './md-table.js';
import { readSamples, type PhaseSamples } from './samples.js';
import { median, ms as msText, p95 } from './stats.js';
import { barSpec, distributionSpec, renderSvg, timelineSpec, type Bar } from './vega-chart.js';

interface Chart {
  readonly file: string;
  readonly spec: TopLevelSpec;
}

const ms = (v: number): string => `${msText(v)} ms`;
const rowsOf = (table: Table | null): string[][] => table?.rows ?? [];

/** "Sat Dec  5 23:26:03 UTC 2026, 2 × AMD EPYC, Node v20.20.2": where and when samples were taken. */
const measuredOn = (d: PhaseSamples): string => `${d.machine.date.replace(/\s+/g, ' ')}, ${d.machine.cpus} × ${d.machine.model}, Node ${d.machine.node}`;

function distribution(file: string, title: string, d: PhaseSamples): Chart {
  const dropped = Object.entries(d.failures).map(([name, why]) => `${name} dropped out: ${why}`);
  return {
    file,
    spec: distributionSpec({
      title,
      subtitle: [
        `${d.what}; ${measuredOn(d)}`,
        'box: quartiles and median, whiskers: min and max; a dot per sample; log scale',
        ...dropped,
      ],
      axis: 'ms (log scale)',
      samples: d.samples,
      highlight: 'warden',
      log: true,
      summary: (s) => `median ${ms(median(s))}, p95 ${ms(p95(s))} (n ${s.length})`,
    }),
  };
}

/** Bars of the supervisors' table in docs/benchmarks.md: `value`, with `whisker` beyond it. */
function supervisorBars(table: Table, value: string, whisker: string | null, format: (v: number) => string): Bar[] {
  return table.rows.flatMap((r) => {
    const v = num(r[column(table, value)]);
    if (v === null) return [];
    const w = whisker === null ? null : num(r[column(table, whisker)]);
    const text = w === null ? format(v) : `${format(v)} / ${format(w)}`;
    return [{ label: r[0]!, value: v, ...(w === null ? {} : { whisker: w }), highlight: r[0] === 'warden', text }];
  });
}

function supervisorCharts(doc: string): Chart[] {
  const out: Chart[] = [];
  const restart = readSamples('supervisors-restart');
  if (restart) out.push(distribution('supervisors-restart.svg', 'Restart after kill -9: the service dies → it runs again', restart));
  const boot = readSamples('supervisors-boot');
  const table = tableRows(doc, 'supervisor');
  if (boot) out.push(distribution('supervisors-boot.svg', 'Boot: the supervisor spawned → its service started', boot));
  else if (table) {
    out.push({
      file: 'supervisors-boot.svg',
      spec: barSpec({
        title: 'Boot: the supervisor spawned → its service started',
        subtitle: ['bar: median, whisker: p95 of the boots in docs/benchmarks.md (npm run bench); log scale'],
        axis: 'ms (log scale)',
        bars: supervisorBars(table, 'boot median ms', 'boot p95 ms', ms),
        log: true,
      }),
    });
  }
  if (table) {
    out.push({
      file: 'supervisors-rss.svg',
      spec: barSpec({
        title: 'Memory: resident set of the supervisor with 3 services',
        subtitle: ['settled RSS of the supervisor\u2019s own processes, services excluded (docs/benchmarks.md, npm run bench)'],
        axis: 'MB',
        bars: supervisorBars(table, 'RSS MB (3 svc)', null, (v) => `${v.toFixed(1)} MB`),
      }),
    });
  }
  return out;
}

/**
 * The release's variants (its section of docs/benchmarks.md, run 1, measured by hand with parts
 * of the bench on a loaded machine): the CPU the supervisor used to boot, which waiting for a
 * CPU inflates less than wall time, and RSS, of the one executable beside `node dist/...` and
 * the floors of each Node.
 */
function releaseCharts(doc: string): Chart[] {
  // Its own column: the supervisors' table (written by `npm run bench`) has boot CPU too, and comes first.
  const table = tableRows(doc, 'supervisor', 'CPU × own floor');
  if (table === null) return [];
  const plain = { header: table.header, rows: table.rows.map((r) => r.map((cell) => cell.replace(/\*\*|`/g, ''))) };
  // The row in bold is what the release ships.
  const shipped = new Set(table.rows.filter((r) => r[0]!.includes('**')).map((r) => r[0]!.replace(/\*\*|`/g, '')));
  const bars = (value: string, format: (v: number) => string): Bar[] =>
    supervisorBars(plain, value, null, format).map((b) => ({ ...b, highlight: shipped.has(b.label) }));
  const source = 'docs/benchmarks.md, "The release", run 1';
  return [
    {
      file: 'release-boot-cpu.svg',
      spec: barSpec({
        title: 'The release: CPU time to boot, the one executable and its variants',
        subtitle: [`the supervisor's own CPU time when its service announced itself, median of 20 boots (${source})`],
        axis: 'ms of CPU',
        bars: bars('boot CPU median ms', ms),
      }),
    },
    {
      file: 'release-rss.svg',
      spec: barSpec({
        title: 'The release: RSS with 3 services, the one executable and its variants',
        subtitle: [`sum over the supervisor\u2019s own processes (${source})`],
        axis: 'MB',
        bars: bars('RSS MB (3 svc)', (v) => `${v.toFixed(1)} MB`),
      }),
    },
  ];
}

function logCharts(doc: string): Chart[] {
  const rows = rowsOf(tableRows(doc, 'measure'));
  const row = (prefix: string): string[] | undefined => rows.find((r) => r[0]!.startsWith(prefix));
  const warden = num(row('log throughput with rotation')?.[1]);
  // The peer's cell names its options before the rate: "s6-log `n10 s1000000`: 1,864,220 lines/s".
  const rateOf = (cell: string | undefined): number | null => num(cell?.split(':').at(-1));
  const s6 = rateOf(row('log throughput with rotation')?.[2]);
  const s6T = rateOf(row('the same, s6-log timestamping')?.[2]);
  if (warden === null || s6 === null) return [];
  const rate = (v: number): string => `${(v / 1e6).toFixed(2)} M/s`;
  const bars: Bar[] = [
    { label: 'warden (timestamps every line)', value: warden, highlight: true, text: rate(warden) },
    { label: 's6-log n10 s1000000', value: s6, text: rate(s6) },
    ...(s6T === null ? [] : [{ label: 's6-log with T (timestamps)', value: s6T, text: rate(s6T) }]),
  ];
  return [
    {
      file: 'log-throughput.svg',
      spec: barSpec({
        title: 'Log capture with rotation: lines per second',
        subtitle: ['2,000,000 lines of 100 B, rotating at 1,000,000 B, keeping 10 (docs/benchmarks.md, npm run bench)'],
        axis: 'lines per second',
        axisFormat: '~s',
        bars,
      }),
    },
  ];
}

function stackScalingCharts(doc: string): Chart[] {
  const table = tableRows(doc, 'method', 'start → served median ms');
  if (table === null) return [];
  const rows = table.rows.filter((r) => num(r[column(table, 'start → served median ms')]) !== null && !r[0]!.includes('÷'));
  const bar = (r: string[], name: string, what: string): Bar => {
    const value = num(r[column(table, name)]) ?? 0;
    const whisker = num(r[column(table, name) + 1]) ?? value;
    return { label: `${r[0]}: ${what}`, value, whisker, highlight: r[0]!.startsWith('warden'), text: `${ms(value)} / ${ms(whisker)}` };
  };
  return [
    {
      file: 'stack-scaling.svg',
      spec: barSpec({
        title: 'The stack: a node joins and leaves under load',
        subtitle: ['bar: median, whisker: p95 over the scaling events of npm run bench:stack (docs/benchmarks.md)'],
        axis: 'ms',
        bars: rows.flatMap((r) => [bar(r, 'start → served median ms', 'start → served'), bar(r, 'SIGTERM → out of rotation median ms', 'SIGTERM → out of rotation')]),
      }),
    },
  ];
}

/** One interval of the live stack's load (test/containers/load-client.ts --timeline). */
interface TimelinePoint {
  readonly at: number;
  readonly ok: number;
  readonly failed: number;
  readonly refused: number;
}

interface StoredTimeline {
  readonly title: string;
  readonly points: readonly TimelinePoint[];
  readonly marks: readonly { readonly at: number; readonly label: string }[];
}

function timelineChart(file: string, out: string): Chart[] {
  if (!existsSync(file)) return [];
  const data = JSON.parse(readFileSync(file, 'utf8')) as StoredTimeline;
  if (!Array.isArray(data.points) || data.points.length === 0) throw new Error(`${file}: no "points"`);
  const t0 = Math.min(...data.points.map((p) => p.at), ...data.marks.map((m) => m.at));
  const seconds = (at: number): number => (at - t0) / 1000;
  const last = data.points[data.points.length - 1]!;
  const interval = data.points.length > 1 ? (last.at - data.points[0]!.at) / (data.points.length - 1) / 1000 : 1;
  const sum = (f: (p: TimelinePoint) => number): number => data.points.reduce((n, p) => n + f(p), 0);
  const failed = sum((p) => p.failed);
  return [
    {
      file: out,
      spec: timelineSpec({
        title: data.title,
        subtitle: [`${sum((p) => p.ok + p.failed)} requests, ${failed} failed (${sum((p) => p.refused)} refused); counted per ${interval.toFixed(1)} s interval, drawn per second`],
        points: data.points.map((p) => ({ seconds: seconds(p.at), answered: p.ok / interval, failed: p.failed / interval, refused: p.refused / interval })),
        marks: data.marks.map((m) => ({ seconds: seconds(m.at), label: m.label })),
      }),
    },
  ];
}

async function main(): Promise<void> {
  const root = repoRoot();
  const docPath = join(root, 'docs', 'benchmarks.md');
  const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const outDir = join(root, 'docs', 'charts');
  mkdirSync(outDir, { recursive: true });
  const groups: [string, Chart[]][] = [
    ['supervisors (docs/data/supervisors-*.json, docs/benchmarks.md)', supervisorCharts(doc)],
    ['the release (docs/benchmarks.md)', releaseCharts(doc)],
    ['control and logs (docs/benchmarks.md)', logCharts(doc)],
    ['stack scaling (docs/benchmarks.md)', stackScalingCharts(doc)],
    ['live stack timeline (docs/data/stack-timeline.json)', timelineChart(join(root, 'docs', 'data', 'stack-timeline.json'), 'stack-timeline.svg')],
  ];
  for (const [what, charts] of groups) {
    if (charts.length === 0) process.stderr.write(`charts: ${what}: no data, skipped\n`);
    for (const c of charts) {
      writeFileSync(join(outDir, c.file), await renderSvg(c.spec));
      process.stderr.write(`charts: wrote docs/charts/${c.file}\n`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`charts: failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
