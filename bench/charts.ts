/**
 * Draws the benchmarks' SVG charts into docs/charts/ from what the benches measured: the tables
 * they write into docs/benchmarks.md (supervisors, control and logs, the stack's scaling), and
 * the time series kept in docs/data/ (the live stack's requests per second with its scaling
 * events and HAProxy's kill -9, written by `STACK_TIMELINE=FILE bash scripts/stack.sh`). Run by
 * `npm run bench` after the benches, or alone: `node dist/bench/charts.js`. A table or a file
 * that is not there is skipped with a line saying so.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './doc-section.js';
import { barChart, timeChart, type Bar, type EventMark } from './svg-chart.js';

/** The rows of the first markdown table whose header starts with `firstColumn` (and has `withColumn`), as cells. */
export function tableRows(markdown: string, firstColumn: string, withColumn?: string): { header: string[]; rows: string[][] } | null {
  const lines = markdown.split('\n');
  const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const at = lines.findIndex((l) => l.startsWith('|') && cells(l)[0] === firstColumn && (withColumn === undefined || cells(l).includes(withColumn)));
  if (at < 0) return null;
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(cells(line));
  }
  return { header: cells(lines[at]!), rows };
}

/** The first number in a cell ("3,115,219 lines/s" → 3115219; "—" → null). */
export function num(cell: string | undefined): number | null {
  const m = cell?.replace(/,/g, '').match(/-?\d+(\.\d+)?/);
  return m ? Number(m[0]) : null;
}

function column(table: { header: string[]; rows: string[][] }, name: string): number {
  const i = table.header.indexOf(name);
  if (i < 0) throw new Error(`docs/benchmarks.md: no column "${name}" in the table of ${table.header[0]}`);
  return i;
}

const ms = (v: number): string => (v >= 100 ? `${Math.round(v)} ms` : `${v.toPrecision(3)} ms`);

interface Chart {
  readonly file: string;
  readonly svg: string;
}

function supervisorCharts(doc: string): Chart[] {
  const table = tableRows(doc, 'supervisor');
  if (table === null) return [];
  const bars = (value: string, whisker: string | null): Bar[] =>
    table.rows.flatMap((r) => {
      const v = num(r[column(table, value)]);
      if (v === null) return [];
      const w = whisker === null ? null : num(r[column(table, whisker)]);
      return [{ label: r[0]!, value: v, ...(w === null ? {} : { whisker: w }), highlight: r[0] === 'warden' }];
    });
  return [
    {
      file: 'supervisors-restart.svg',
      svg: barChart({
        title: 'Restart after kill -9: the service dies → it runs again',
        note: 'bar: median, whisker: p95 of 100 kills, log scale (docs/benchmarks.md, npm run bench)',
        axis: 'ms (log scale)',
        bars: bars('restart median ms', 'restart p95 ms'),
        log: true,
        format: ms,
      }),
    },
    {
      file: 'supervisors-boot.svg',
      svg: barChart({
        title: 'Boot: the supervisor spawned → its service started',
        note: 'bar: median, whisker: p95 of 20 boots, log scale',
        axis: 'ms (log scale)',
        bars: bars('boot median ms', 'boot p95 ms'),
        log: true,
        format: ms,
      }),
    },
    {
      file: 'supervisors-rss.svg',
      svg: barChart({
        title: 'Memory: resident set of the supervisor with 3 services',
        note: 'settled RSS of the supervisor\u2019s own processes, services excluded',
        axis: 'MB',
        bars: bars('RSS MB (3 svc)', null),
        format: (v) => `${v.toFixed(1)} MB`,
      }),
    },
  ];
}

function logCharts(doc: string): Chart[] {
  const table = tableRows(doc, 'measure');
  if (table === null) return [];
  const row = (prefix: string): string[] | undefined => table.rows.find((r) => r[0]!.startsWith(prefix));
  const plain = row('log throughput with rotation');
  const stamped = row('the same, s6-log timestamping');
  const warden = num(plain?.[1]);
  const s6 = num(plain?.[2]);
  const s6T = num(stamped?.[2]);
  if (warden === null || s6 === null) return [];
  const bars: Bar[] = [
    { label: 'warden (timestamps every line)', value: warden, highlight: true },
    { label: 's6-log n10 s1000000', value: s6 },
    ...(s6T === null ? [] : [{ label: 's6-log with T (timestamps)', value: s6T }]),
  ];
  return [
    {
      file: 'log-throughput.svg',
      svg: barChart({
        title: 'Log capture with rotation: lines per second',
        note: '2,000,000 lines of 100 B, rotating at 1,000,000 B, keeping 10',
        axis: 'lines per second',
        bars,
        format: (v) => `${(v / 1e6).toFixed(2)} M/s`,
      }),
    },
  ];
}

function stackScalingCharts(doc: string): Chart[] {
  const table = tableRows(doc, 'method', 'start → served median ms');
  if (table === null) return [];
  const rows = table.rows.filter((r) => num(r[column(table, 'start → served median ms')]) !== null && !r[0]!.includes('÷'));
  const at = (r: string[], name: string, offset = 0): number => num(r[column(table, name) + offset]) ?? 0;
  const bars: Bar[] = rows.flatMap((r) => [
    { label: `${r[0]}: start → served`, value: at(r, 'start → served median ms'), whisker: at(r, 'start → served median ms', 1), highlight: r[0]!.startsWith('warden') },
    { label: `${r[0]}: SIGTERM → out of rotation`, value: at(r, 'SIGTERM → out of rotation median ms'), whisker: at(r, 'SIGTERM → out of rotation median ms', 1), highlight: r[0]!.startsWith('warden') },
  ]);
  return [
    {
      file: 'stack-scaling.svg',
      svg: barChart({
        title: 'The stack: a node joins and leaves under load',
        note: 'bar: median, whisker: p95 over the scaling events of npm run bench:stack; 0 failed requests in both',
        axis: 'ms',
        bars,
        format: ms,
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

interface Timeline {
  readonly title: string;
  readonly points: readonly TimelinePoint[];
  readonly marks: readonly { readonly at: number; readonly label: string }[];
}

function timelineChart(file: string, out: string): Chart[] {
  if (!existsSync(file)) return [];
  const data = JSON.parse(readFileSync(file, 'utf8')) as Timeline;
  const t0 = Math.min(...data.points.map((p) => p.at), ...data.marks.map((m) => m.at));
  const sec = (at: number): number => (at - t0) / 1000;
  const interval = data.points.length > 1 ? (data.points[data.points.length - 1]!.at - data.points[0]!.at) / (data.points.length - 1) / 1000 : 1;
  const perSecond = (v: number): number => v / interval;
  const marks: EventMark[] = data.marks.map((m) => ({ at: sec(m.at), label: m.label }));
  const failed = data.points.reduce((n, p) => n + p.failed, 0);
  const refused = data.points.reduce((n, p) => n + p.refused, 0);
  const total = data.points.reduce((n, p) => n + p.ok + p.failed, 0);
  return [
    {
      file: out,
      svg: timeChart({
        title: data.title,
        note: `${total} requests, ${failed} failed (${refused} refused); per ${interval.toFixed(1)} s interval, as requests per second`,
        axis: 'seconds',
        series: [
          { name: 'answered / s', kind: 'line', color: '#1f6feb', points: data.points.map((p) => [sec(p.at), perSecond(p.ok)]) },
          { name: 'failed / s', kind: 'bars', color: '#cf222e', points: data.points.map((p) => [sec(p.at), perSecond(p.failed)]) },
        ],
        marks,
      }),
    },
  ];
}

function main(): void {
  const root = repoRoot();
  const docPath = join(root, 'docs', 'benchmarks.md');
  const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const outDir = join(root, 'docs', 'charts');
  mkdirSync(outDir, { recursive: true });
  const groups: [string, Chart[]][] = [
    ['supervisors (docs/benchmarks.md)', supervisorCharts(doc)],
    ['control and logs (docs/benchmarks.md)', logCharts(doc)],
    ['stack scaling (docs/benchmarks.md)', stackScalingCharts(doc)],
    ['live stack timeline (docs/data/stack-timeline.json)', timelineChart(join(root, 'docs', 'data', 'stack-timeline.json'), 'stack-timeline.svg')],
  ];
  for (const [what, charts] of groups) {
    if (charts.length === 0) process.stderr.write(`charts: ${what}: no data, skipped\n`);
    for (const c of charts) {
      writeFileSync(join(outDir, c.file), c.svg);
      process.stderr.write(`charts: wrote docs/charts/${c.file}\n`);
    }
  }
}

main();
