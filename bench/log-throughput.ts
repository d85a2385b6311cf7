/**
 * Log throughput with rotation: warden's ServiceLogs against s6-log, same input, one run each.
 *
 * Input: 2 000 000 lines of 100 bytes, written once to a temp file and fed by `cat` through a
 * pipe to each logger (so the generator is never the bottleneck, and both read the same bytes).
 * Both rotate at 1 000 000 bytes and keep 10 archives: s6-log `n10 s1000000 DIR` against
 * ServiceLogs `{ defaultMaxBytes: 1_000_000, defaultKeep: 10, console: 'none' }`.
 *
 * Not quite the same work, both ways: warden prefixes every line with a 29-byte time and
 * stream mark (s6-log without `T` adds nothing), and s6-log fsyncs each file before rotating
 * (warden does not). A third run, s6-log with `T` (ISO-8601 time per line), is printed for the
 * prefix side of it. This process takes PID 1's V8 settings first (src/cli/pid1-v8-flags.ts).
 *
 * Run: `node dist/bench/log-throughput.js` (needs s6-log: `apt-get install -y s6`).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ServiceLogs } from '../src/adapters/service-logs.js';
import { tuneV8ForSupervisor } from '../src/cli/pid1-v8-flags.js';
import { describeMachine } from './machine.js';

export const LINES = 2_000_000;
export const LINE_BYTES = 100;
export const MAX_BYTES = 1_000_000;
export const KEEP = 10;

async function writeInput(path: string): Promise<void> {
  const out = createWriteStream(path);
  const filler = 'x'.repeat(LINE_BYTES - 12);
  const perChunk = 10_000;
  for (let i = 1; i <= LINES; i += perChunk) {
    let s = '';
    for (let k = i; k < i + perChunk && k <= LINES; k++) s += `${String(k).padStart(10, '0')} ${filler}\n`;
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

function exitOf(file: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

async function timeWarden(input: string, dir: string): Promise<number> {
  const errors: unknown[] = [];
  const logs = new ServiceLogs({ dir, console: 'none', defaultMaxBytes: MAX_BYTES, defaultKeep: KEEP }, (_s, e) => errors.push(e));
  const start = performance.now();
  const child = spawn('cat', [input], { stdio: ['ignore', 'pipe', 'pipe'] });
  logs.attach('bench', child.stdout, child.stderr);
  await new Promise((resolve) => child.once('close', resolve));
  await logs.close();
  const ms = performance.now() - start;
  if (errors.length > 0) throw new Error(`ServiceLogs failed: ${String(errors[0])}`);
  return ms;
}

async function timeS6Log(input: string, dir: string, timestamps: boolean): Promise<number> {
  const start = performance.now();
  const code = await exitOf('sh', ['-c', `exec cat '${input}' | s6-log ${timestamps ? 'T ' : ''}n${KEEP} s${MAX_BYTES} '${dir}'`]);
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`s6-log exited with ${code} (is s6 installed? apt-get install -y s6)`);
  return ms;
}

export interface LogThroughput {
  readonly wardenLinesPerSec: number;
  readonly s6LogLinesPerSec: number;
  /** s6-log with `T` (a time on every line, as warden writes). */
  readonly s6LogTimestampedLinesPerSec: number;
}

/** Lines per second through rotating log files: warden's ServiceLogs and s6-log, same input. */
export async function runLogThroughputBench(): Promise<LogThroughput> {
  // ServiceLogs runs in this process: with PID 1's V8 settings, as it does in warden.
  await tuneV8ForSupervisor();
  const root = await mkdtemp(join(tmpdir(), 'warden-log-bench-'));
  try {
    const input = join(root, 'input.txt');
    await writeInput(input);
    await exitOf('cat', [input]); // page cache warm for every run
    const s6Ms = await timeS6Log(input, join(root, 's6'), false);
    const wardenMs = await timeWarden(input, join(root, 'warden'));
    const s6TMs = await timeS6Log(input, join(root, 's6T'), true);
    const perSec = (ms: number): number => Math.round((LINES * 1000) / ms);
    return { wardenLinesPerSec: perSec(wardenMs), s6LogLinesPerSec: perSec(s6Ms), s6LogTimestampedLinesPerSec: perSec(s6TMs) };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const m = describeMachine();
  const r = await runLogThroughputBench();
  const fmt = (n: number): string => n.toLocaleString('en-US');
  process.stdout.write(
    [
      `log throughput, ${fmt(LINES)} lines of ${LINE_BYTES} bytes, rotating at ${fmt(MAX_BYTES)} bytes, keep ${KEEP}`,
      `machine: ${m.model}, ${m.cpus} CPUs, ${m.memory}, ${m.kernel}, node ${m.node}, ${m.peers}; ${m.date}`,
      `warden ServiceLogs : ${fmt(r.wardenLinesPerSec)} lines/s`,
      `s6-log n10 s1000000: ${fmt(r.s6LogLinesPerSec)} lines/s`,
      `s6-log T n10 s1e6  : ${fmt(r.s6LogTimestampedLinesPerSec)} lines/s`,
      `ratio warden / s6-log: ${(r.wardenLinesPerSec / r.s6LogLinesPerSec).toFixed(2)}× (goal ≥ 0.8×); against s6-log T: ${(r.wardenLinesPerSec / r.s6LogTimestampedLinesPerSec).toFixed(2)}×`,
      '',
    ].join('\n'),
  );
}
