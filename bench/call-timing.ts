/**
 * Times short-lived commands side by side: each sample is one run of the command, timed by
 * bash's `time` (wall and the CPU time of the command and all it ran, user + system, at 1 ms
 * resolution: a C helper takes a few ms, under the 10 ms of /usr/bin/time). The rows run
 * interleaved, round after round, so whatever else loads the machine falls on each alike.
 */
import { spawn } from 'node:child_process';
import { median, ms, p95 } from './stats.js';

/** One command of a table, compared with the row named `base` (itself: the reference). */
export interface Call {
  readonly label: string;
  readonly argv: readonly string[];
  readonly base: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A row as a one-liner: `call('s6-svstat', ['s6-svstat', dir], 's6-svstat')`. */
export const call = (label: string, argv: readonly string[], base: string, env?: NodeJS.ProcessEnv): Call => ({ label, argv, base, env });

/** Calls run in order each round, after `before` (unmeasured: brings the services where the calls expect them). */
export interface Step {
  readonly calls: readonly Call[];
  readonly before?: () => Promise<void>;
}

export interface Samples {
  readonly wall: number[];
  readonly cpu: number[];
}

const TIME = 'TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&1 </dev/null; } 2>&1';

/** One run of `argv`: its wall and CPU time in ms; rejects when it exits non-zero. */
export function timeOnce(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ wall: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', TIME, 'bash', ...argv], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => {
      const [wall, user, system] = out.trim().split('\n').at(-1)!.split(' ').map(Number);
      if (code !== 0 || !Number.isFinite(system)) reject(new Error(`${argv.join(' ')}: exit ${String(code)}`));
      else resolve({ wall: wall! * 1000, cpu: (user! + system!) * 1000 });
    });
  });
}

/** Runs every step's calls `rounds` times (after one warm-up round); samples by label. */
export async function measureCalls(steps: readonly Step[], rounds: number, progress: (round: number) => void = () => {}): Promise<Map<string, Samples>> {
  const out = new Map<string, Samples>();
  for (let round = -1; round < rounds; round++) {
    for (const step of steps) {
      await step.before?.();
      for (const c of step.calls) {
        const t = await timeOnce(c.argv, c.env);
        if (round < 0) continue;
        let s = out.get(c.label);
        if (s === undefined) out.set(c.label, (s = { wall: [], cpu: [] }));
        s.wall.push(t.wall);
        s.cpu.push(t.cpu);
      }
    }
    if (round >= 0) progress(round + 1);
  }
  return out;
}

/** The calls as a Markdown table: median and p95 of wall and CPU, each as a ratio to its base row. */
export function callTable(steps: readonly Step[], samples: ReadonlyMap<string, Samples>): string {
  const lines = ['| call | wall, median | wall, p95 | CPU, median | CPU, p95 | wall × base | CPU × base |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const c of steps.flatMap((s) => s.calls)) {
    const mine = samples.get(c.label);
    const base = samples.get(c.base);
    if (mine === undefined || base === undefined) continue;
    const times = (a: number[], b: number[]) => (c.label === c.base ? '1' : `${(median(a) / median(b)).toFixed(2)}×`);
    lines.push(
      `| ${c.label} | ${ms(median(mine.wall))} ms | ${ms(p95(mine.wall))} ms | ${ms(median(mine.cpu))} ms | ${ms(p95(mine.cpu))} ms | ${times(mine.wall, base.wall)} | ${times(mine.cpu, base.cpu)} |`,
    );
  }
  return lines.join('\n');
}
