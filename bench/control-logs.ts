/**
 * Issue 4's benchmark in one run: `status` latency and warden's RSS with 1 000 services
 * (control-status.ts), then log throughput with rotation against s6-log (log-throughput.ts).
 * Prints both and rewrites the "control-logs" section of docs/benchmarks.md.
 *
 * Run: `npm run bench` (after the supervisors bench), or `node dist/bench/control-logs.js`.
 */
import { GOALS, runControlStatusBench, formatControlStatus, type ControlStatusResult } from './control-status.js';
import { KEEP, LINE_BYTES, LINES, MAX_BYTES, runLogThroughputBench, type LogThroughput } from './log-throughput.js';
import { describeMachine, type Machine } from './machine.js';
import { writeDocSection } from './doc-section.js';

const LOG_GOAL = 0.8;
const fmt = (n: number): string => n.toLocaleString('en-US');
const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(0));
const met = (ok: boolean): string => (ok ? '**met**' : '**not met**');

function markdown(m: Machine, c: ControlStatusResult, l: LogThroughput): string {
  const ratio = l.wardenLinesPerSec / l.s6LogLinesPerSec;
  const ratioT = l.wardenLinesPerSec / l.s6LogTimestampedLinesPerSec;
  return `\`npm run bench\` (bench/control-logs.ts): ${fmt(c.services)} services of \`exec sleep 100000\` under
warden as PID 1, then ${fmt(LINES)} lines of ${LINE_BYTES} B through warden's log capture and through
s6-log, both rotating at ${fmt(MAX_BYTES)} B and keeping ${KEEP}. ${m.date}, ${m.cpus} × ${m.model}, Node ${m.node}.

| measure | warden | peer | ratio | goal |
|---|---:|---:|---:|---|
| \`status\` round trip over the socket, ${fmt(c.services)} services: median / p95 | ${ms(c.statusMedianMs)} / ${ms(c.statusP95Ms)} ms | — | — | ≤ ${GOALS.statusMs} ms: ${met(c.statusP95Ms <= GOALS.statusMs)} |
| \`warden status --json\`, whole CLI process, median | ${ms(c.cliMedianMs)} ms | — | — | — |
| warden RSS with ${fmt(c.services)} services | ${c.rssMb.toFixed(1)} MB | — | — | ≤ ${GOALS.rssMb} MB: ${met(c.rssMb <= GOALS.rssMb)} |
| log throughput with rotation | ${fmt(l.wardenLinesPerSec)} lines/s | s6-log \`n${KEEP} s${MAX_BYTES}\`: ${fmt(l.s6LogLinesPerSec)} lines/s | ${ratio.toFixed(2)}× | ≥ ${LOG_GOAL}×: ${met(ratio >= LOG_GOAL)} |
| the same, s6-log timestamping each line (\`T\`), as warden does | | ${fmt(l.s6LogTimestampedLinesPerSec)} lines/s | ${ratioT.toFixed(2)}× | |`;
}

const machine = describeMachine();
const control = await runControlStatusBench();
process.stdout.write(`${formatControlStatus(control)}\n`);
const logs = await runLogThroughputBench();
process.stdout.write(`log throughput: warden ${fmt(logs.wardenLinesPerSec)} lines/s, s6-log ${fmt(logs.s6LogLinesPerSec)} lines/s\n`);
const doc = writeDocSection(
  { name: 'control-logs', heading: '## Control and logs', writer: '`npm run bench` (bench/control-logs.ts)' },
  markdown(machine, control, logs),
);
process.stderr.write(`bench: wrote ${doc}\n`);
