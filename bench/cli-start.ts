/**
 * How much a `warden` control command costs as a whole process — what a Docker HEALTHCHECK or a
 * Kubernetes probe pays every few seconds in every container: wall time and peak RSS of
 * `warden health`, `warden status` and `status --json` beside bare `node -e 0`, the same commands
 * through yargs as before the fast path (bench/cli-yargs.ts), and the release's single executable
 * beside its own Node's `node -e 0` when `npm run dist` has built it. One warden (a sub-init in
 * its own PID namespace, 10 services); the commands run interleaved, round after round, so a
 * busy machine slows every row alike. Goal (issue: a fast client path): health ≤ 1.3× bare
 * Node, peak RSS ≤ 40 MB.
 *
 * Run: `npm run build && node dist/bench/cli-start.js [--rounds N] [--write]` (--write: the
 * section in docs/benchmarks.md).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, writeDocSection } from './doc-section.js';
import { describeMachine } from './machine.js';
import { median, ms, p95 } from './stats.js';
import { startSubInit, untilUp, WARDEN_BIN, WARDEN_MAIN, type SubInit } from './sub-init.js';

const YARGS_MAIN = fileURLToPath(new URL('./cli-yargs.js', import.meta.url));
const RELEASE_OPT = join(repoRoot(), 'release', `.work-${process.arch}`, 'root', 'opt', 'warden');
const SERVICES = 10;
export const GOALS = { ratio: 1.3, rssMb: 40 } as const;

export interface Row {
  readonly label: string;
  readonly argv: readonly string[];
  /** The row whose median this one is divided by. */
  readonly base: string;
  readonly times: number[];
  /** CPU time (user + system) of the process, ms: what the machine's load does not inflate. */
  readonly cpu: number[];
  readonly rssMb: number[];
}

/** One run under /usr/bin/time: wall ms (around the whole spawn), CPU ms and peak RSS (MB). */
async function timed(argv: readonly string[], env: NodeJS.ProcessEnv, rssFile: string): Promise<{ ms: number; cpuMs: number; rssMb: number }> {
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, ...argv], { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', resolve);
  });
  const elapsed = performance.now() - started;
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${String(code)}`);
  const [kb, user, system] = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { ms: elapsed, cpuMs: (user! + system!) * 1000, rssMb: kb! / 1024 };
}

function rows(): Row[] {
  const row = (label: string, argv: readonly string[], base: string): Row => ({ label, argv, base, times: [], cpu: [], rssMb: [] });
  const node = process.execPath;
  const out = [
    row('`node -e 0`', [node, '-e', '0'], '`node -e 0`'),
    row('`warden health`', [node, WARDEN_BIN, 'health'], '`node -e 0`'),
    row('`warden status`', [node, WARDEN_BIN, 'status'], '`node -e 0`'),
    row('`warden status --json`', [node, WARDEN_BIN, 'status', '--json'], '`node -e 0`'),
    row('`warden health` from the ES module entry (main.js)', [node, WARDEN_MAIN, 'health'], '`node -e 0`'),
    row('`warden health` through yargs (before)', [node, YARGS_MAIN, 'health'], '`node -e 0`'),
    row('`warden status` through yargs (before)', [node, YARGS_MAIN, 'status'], '`node -e 0`'),
  ];
  const seaNode = join(repoRoot(), 'node_modules', '.cache', 'warden-dist');
  if (existsSync(join(RELEASE_OPT, 'bin', 'warden'))) {
    // It names /opt/warden/lib/… as its ELF interpreter, which this machine need not have: started
    // through that loader, given by path, as the kernel would (as bench/peers.ts does).
    const lib = join(RELEASE_OPT, 'lib');
    const loader = join(lib, readdirSync(lib).find((f) => f.startsWith('ld-linux'))!);
    const sea = [loader, '--library-path', lib, join(RELEASE_OPT, 'bin', 'warden')];
    // The executable's own Node (the release pins its version): its bare start is the floor.
    const pinned = readFileSync(join(repoRoot(), 'scripts', 'dist.mjs'), 'utf8').match(/NODE_VERSION = '([^']+)'/)?.[1];
    const bare = join(seaNode, `node-${pinned}-${process.arch}`, 'node_modules', `node-linux-${process.arch}`, 'bin', 'node');
    if (existsSync(bare)) out.push(row(`release's Node ${pinned}: \`node -e 0\``, [bare, '-e', '0'], `release's Node ${pinned}: \`node -e 0\``));
    const base = existsSync(bare) ? `release's Node ${pinned}: \`node -e 0\`` : '`node -e 0`';
    out.push(row('release executable: `warden health`', [...sea, 'health'], base), row('release executable: `warden status`', [...sea, 'status'], base));
  }
  return out;
}

export async function runCliStartBench(rounds: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-cli-'));
  let warden: SubInit | null = null;
  try {
    for (let i = 0; i < SERVICES; i++) {
      const sdir = join(dir, 'services.d', `svc${i}`);
      await mkdir(sdir, { recursive: true });
      await writeFile(join(sdir, 'run'), '#!/bin/sh\nexec sleep 100000\n');
      await chmod(join(sdir, 'run'), 0o755);
    }
    warden = await startSubInit({ dir, services: join(dir, 'services.d') });
    await untilUp(warden.socket, SERVICES);
    const env = { ...process.env, WARDEN_SOCKET: warden.socket };
    const rssFile = join(dir, 'rss');
    const all = rows();
    // A warm-up round: the page cache holds every file, as it does for a probe run every few seconds.
    for (const r of all) await timed(r.argv, env, rssFile);
    for (let i = 0; i < rounds; i++) {
      for (const r of all) {
        const t = await timed(r.argv, env, rssFile);
        r.times.push(t.ms);
        r.cpu.push(t.cpuMs);
        r.rssMb.push(t.rssMb);
      }
    }
    return all;
  } finally {
    await warden?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The rows as a Markdown table, each against its floor. */
export function formatCliStart(all: readonly Row[], rounds: number): string {
  const byLabel = new Map(all.map((r) => [r.label, r]));
  const lines = [
    `${rounds} rounds, interleaved; wall time of the whole process (spawned from Node, under /usr/bin/time), its CPU time (user + system, 10 ms resolution) and its peak RSS.`,
    '',
    '| command | wall, median | wall, p95 | wall × its bare Node | CPU, median | CPU × its bare Node | peak RSS, median |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of all) {
    const base = byLabel.get(r.base)!;
    const times = (mine: number[], theirs: number[]): string => (r === base ? '1' : `${(median(mine) / median(theirs)).toFixed(2)}×`);
    lines.push(`| ${r.label} | ${ms(median(r.times))} ms | ${ms(p95(r.times))} ms | ${times(r.times, base.times)} | ${ms(median(r.cpu))} ms | ${times(r.cpu, base.cpu)} | ${median(r.rssMb).toFixed(1)} MB |`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 30;
  const all = await runCliStartBench(rounds);
  const m = describeMachine();
  const table = formatCliStart(all, rounds);
  process.stdout.write(`${table}\n`);
  if (args.includes('--write')) {
    const body = `${m.date}; ${m.cpus} CPUs (${m.model}), ${m.memory}, Linux ${m.kernel}, Node ${m.node}.\n\n${table}\n\nGoal: \`warden health\` ≤ ${GOALS.ratio}× bare Node, peak RSS ≤ ${GOALS.rssMb} MB.`;
    writeDocSection({ name: 'cli-start', heading: '## A control command as a process', writer: '`node dist/bench/cli-start.js --write` (bench/cli-start.ts)' }, body);
  }
}
