/**
 * The calls an s6-overlay image makes all day, each beside its s6 counterpart in one run:
 * `with-contenv` against `s6-envdir` (and against s6-overlay's own with-contenv, the same
 * execline steps run by Debian's execline), `warden status|up|down|wait` against `s6-svstat`,
 * `s6-svc`, `s6-svwait` on Debian's s6-supervise, warden's CLI against bare `node -e 0`
 * (bench/cli-start.ts), and the boot of a root with 30 `#!…/with-contenv bash` cont-init scripts
 * under warden and under s6. Prints the tables and rewrites the "helpers" section of
 * docs/benchmarks.md.
 *
 * Run: `npm run bench` (its last part), or `node dist/bench/helpers.js`. Knobs:
 * BENCH_HELPER_ROUNDS (30), BENCH_HELPER_BOOTS (6), BENCH_CLI_ROUNDS (15); BENCH_HELPER_PARTS=
 * contenv,control,cli,boot runs a part (printed, not written to the doc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, callTable, measureCalls, timeOnce, type Call, type Step } from './call-timing.js';
import { formatCliStart, GOALS as CLI_GOALS, runCliStartBench, type Row as CliRow } from './cli-start.js';
import { repoRoot, writeDocSection } from './doc-section.js';
import { envInt } from './env.js';
import { ensureBinaries } from './install-peers.js';
import { describeMachine } from './machine.js';
import { makeServices, PEERS, type Instance } from './peers.js';
import { PidLines } from './pid-lines.js';
import { tree } from './procs.js';
import { median, ms, p95 } from './stats.js';
import { startSubInit, untilUp, WARDEN_BIN, type SubInit } from './sub-init.js';

const SHIM = join(repoRoot(), 'shims', 'with-contenv');
const CONTENV_GOAL = 2;
const CONT_INIT_SCRIPTS = 30;
const PARTS = ['contenv', 'control', 'cli', 'boot'] as const;
type Part = (typeof PARTS)[number];

const progress = (message: string) => process.stderr.write(`bench helpers: ${message}\n`);

function settings() {
  const parts = (process.env.BENCH_HELPER_PARTS ?? '').split(',').filter((p) => p !== '');
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_HELPER_PARTS: unknown ${unknown.join(', ')}; known: ${PARTS.join(', ')}`);
  return {
    rounds: envInt('BENCH_HELPER_ROUNDS', 30, 1),
    boots: envInt('BENCH_HELPER_BOOTS', 6, 1),
    cliRounds: envInt('BENCH_CLI_ROUNDS', 15, 1),
    parts: (parts.length === 0 ? PARTS : parts) as readonly Part[],
  };
}

/**
 * `n` variables as one file each, as a container environment is saved: most without a trailing
 * newline (s6-dumpenv's format), one with, one of several lines, one ending in a blank line, PATH.
 */
function containerEnv(n: number): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    MULTI_LINE: 'first line\nsecond line\n\nfourth line',
    NO_TRAILING_NEWLINE: 'no newline at the end',
    TRAILING_NEWLINE: 'one trailing newline\n',
  };
  for (let i = Object.keys(env).length; i < n; i++) env[`CONTAINER_VAR_${i}`] = `value-${i}-${'x'.repeat(i % 40)}`;
  return env;
}

function writeEnvDir(dir: string, env: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(env)) writeFileSync(join(dir, name), value);
}

/**
 * s6-overlay's with-contenv as it runs, with Debian's execline: execlineb reads the script, an
 * ifelse tests S6_KEEP_ENV (importas, eltest), then emptyenv -p, s6-envdir -Lf and exec run the
 * program. The same programs in the same order; only the env dir's path differs.
 */
function s6OverlayWithContenv(path: string, envDir: string): string {
  writeFileSync(
    path,
    `#!/usr/bin/execlineb -S0\nifelse { importas -D 0 S6_KEEP_ENV S6_KEEP_ENV eltest 0\${S6_KEEP_ENV} -eq 0 }\n{ emptyenv -p s6-envdir -Lf -- ${envDir} exec $@ }\n$@\n`,
    { mode: 0o755 },
  );
  return path;
}

/** with-contenv against s6-envdir, with 43 and 100 container variables. */
function contenvSteps(tmp: string): Step[] {
  const steps: Step[] = [];
  for (const n of [43, 100]) {
    const runDir = join(tmp, `contenv-${n}`);
    const envDir = join(runDir, 'container_environment');
    writeEnvDir(envDir, containerEnv(n));
    // The shim looks in /run/s6/container_environment first, then WARDEN_RUN_DIR's.
    const env = { PATH: process.env.PATH, WARDEN_RUN_DIR: runDir };
    const overlay = s6OverlayWithContenv(join(tmp, `s6-overlay-with-contenv-${n}`), envDir);
    const envdir = `\`s6-envdir -Lf DIR true\`, ${n} variables`;
    const envdirBash = `\`s6-envdir -Lf DIR bash -c :\`, ${n} variables`;
    steps.push({
      calls: [
        call(envdir, ['s6-envdir', '-Lf', envDir, 'true'], envdir, env),
        call(`\`with-contenv true\` (dash), ${n} variables`, ['dash', SHIM, 'true'], envdir, env),
        call(`\`with-contenv true\` (the shim run by bash), ${n} variables`, ['bash', SHIM, 'true'], envdir, env),
        call(`s6-overlay's \`with-contenv true\` (execline), ${n} variables`, [overlay, 'true'], envdir, env),
        call(envdirBash, ['s6-envdir', '-Lf', envDir, 'bash', '-c', ':'], envdirBash, env),
        call(`\`with-contenv bash -c :\` (dash), ${n} variables`, ['dash', SHIM, 'bash', '-c', ':'], envdirBash, env),
      ],
    });
  }
  return steps;
}

/** One service (`notification-fd 3`, ready at once) under Debian's s6-svscan and under warden. */
async function controlSteps(tmp: string, started: { s6?: Instance; warden?: SubInit }): Promise<Step[]> {
  const s6Root = join(tmp, 's6');
  const [s6Svc] = makeServices(s6Root, ['svc'], '/dev/null', 3);
  started.s6 = PEERS['s6 +notification-fd']!.launch(s6Root, [s6Svc!]);
  const wRoot = join(tmp, 'warden');
  makeServices(wRoot, ['svc'], '/dev/null', 3);
  started.warden = await startSubInit({ dir: wRoot, services: join(wRoot, 'services') });
  await untilUp(started.warden.socket, 1, true);
  const wEnv = { ...process.env, WARDEN_SOCKET: started.warden.socket };
  const warden = (label: string, args: readonly string[], base: string): Call => call(label, [process.execPath, WARDEN_BIN, ...args], base, wEnv);
  const svc = s6Svc!;
  // warden keeps s6-supervise's files of each service (RUNDIR/service/NAME): s6's own tools run on it.
  const wSvc = join(wRoot, 'run', 'service', 'svc');
  const bothReady = async () => {
    await timeOnce(['s6-svwait', '-U', svc]);
    await timeOnce([process.execPath, WARDEN_BIN, 'wait', '--ready', 'svc'], wEnv);
  };
  return [
    {
      calls: [
        call('`s6-svc -d`', ['s6-svc', '-d', svc], '`s6-svc -d`'),
        warden('`warden down`', ['down', 'svc'], '`s6-svc -d`'),
        call('`s6-svc -d` on warden', ['s6-svc', '-d', wSvc], '`s6-svc -d`'),
      ],
    },
    {
      calls: [
        call('`s6-svc -u`', ['s6-svc', '-u', svc], '`s6-svc -u`'),
        warden('`warden up`', ['up', 'svc'], '`s6-svc -u`'),
        call('`s6-svc -u` on warden', ['s6-svc', '-u', wSvc], '`s6-svc -u`'),
      ],
    },
    {
      before: bothReady,
      calls: [
        call('`s6-svstat`', ['s6-svstat', svc], '`s6-svstat`'),
        warden('`warden status SVC`', ['status', 'svc'], '`s6-svstat`'),
        warden('`warden status --json SVC`', ['status', '--json', 'svc'], '`s6-svstat`'),
        call('`s6-svwait -U` (already ready)', ['s6-svwait', '-U', svc], '`s6-svwait -U` (already ready)'),
        warden('`warden wait --ready` (already ready)', ['wait', '--ready', 'svc'], '`s6-svwait -U` (already ready)'),
        call('`s6-svwait -u` (already up)', ['s6-svwait', '-u', svc], '`s6-svwait -u` (already up)'),
        warden('`warden wait --up` (already up)', ['wait', '--up', 'svc'], '`s6-svwait -u` (already up)'),
        call('`s6-svstat` on warden', ['s6-svstat', wSvc], '`s6-svstat`'),
        call('`s6-svwait -U` on warden (already ready)', ['s6-svwait', '-U', wSvc], '`s6-svwait -U` (already ready)'),
      ],
    },
  ];
}

interface BootVariant {
  readonly label: string;
  readonly supervisor: 'warden' | 's6';
  readonly withContenv: 'shim' | 's6-overlay';
  readonly wall: number[];
  readonly cpu: number[];
}

/** CPU time (ms) of `root`'s process tree so far: the live processes' and what they reaped. */
function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const p of tree(root, new Set())) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime: fields 14–17 of stat(5), 11–14 after the state.
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * One boot: cont-init scripts, then one service, whose start writes its pid to `fifo`. Under s6
 * the runner is what s6-overlay's stage 2 is at its simplest: the scripts in order, then exec
 * s6-svscan. Both are PID 1 of their own PID namespace.
 */
async function bootOnce(v: BootVariant, root: string, scripts: string, env: Record<string, string>, fifo: PidLines): Promise<void> {
  mkdirSync(root, { recursive: true });
  makeServices(root, ['svc'], fifo.path);
  fifo.clear();
  const before = process.hrtime.bigint();
  let child: ChildProcess;
  let warden: SubInit | null = null;
  if (v.supervisor === 'warden') {
    warden = await startSubInit({ dir: root, services: join(root, 'services'), contInit: scripts, env });
    child = warden.child;
  } else {
    const runner = join(root, 'stage2');
    writeFileSync(runner, `#!/bin/sh\nfor f in ${scripts}/*; do "$f" || exit 1; done\nexec s6-svscan ${join(root, 'services')}\n`, { mode: 0o755 });
    child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', runner], { cwd: root, env, stdio: 'ignore' });
    child.on('error', () => {});
  }
  try {
    const line = await fifo.next(60_000);
    v.cpu.push(treeCpuMs(child.pid!));
    v.wall.push(Number(line.at - before) / 1e6);
  } finally {
    if (warden !== null) await warden.stop();
    else if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  }
}

async function bootPart(tmp: string, boots: number): Promise<BootVariant[]> {
  const env = containerEnv(43);
  // s6's container environment, saved beforehand (s6-overlay's stage 0 does it with s6-dumpenv);
  // warden saves its own at boot, where the shim finds it. Under s6 the shim reads this one.
  const runDir = join(tmp, 'boot-run');
  const envDir = join(runDir, 'container_environment');
  writeEnvDir(envDir, env);
  const overlay = s6OverlayWithContenv(join(tmp, 'boot-s6-overlay-with-contenv'), envDir);
  const dirs = { shim: join(tmp, 'cont-init-shim'), 's6-overlay': join(tmp, 'cont-init-s6-overlay') } as const;
  for (const [flavor, dir] of Object.entries(dirs)) {
    mkdirSync(dir);
    const shebang = flavor === 'shim' ? SHIM : overlay;
    for (let i = 1; i <= CONT_INIT_SCRIPTS; i++) {
      writeFileSync(join(dir, `${String(i).padStart(2, '0')}-init`), `#!${shebang} bash\n[ -n "$CONTAINER_VAR_10" ] || exit 1\n`, { mode: 0o755 });
    }
  }
  const variants: BootVariant[] = [
    { label: "warden, warden's with-contenv", supervisor: 'warden', withContenv: 'shim', wall: [], cpu: [] },
    { label: "s6-svscan, s6-overlay's with-contenv (execline)", supervisor: 's6', withContenv: 's6-overlay', wall: [], cpu: [] },
    { label: "warden, s6-overlay's with-contenv (execline)", supervisor: 'warden', withContenv: 's6-overlay', wall: [], cpu: [] },
    { label: "s6-svscan, warden's with-contenv", supervisor: 's6', withContenv: 'shim', wall: [], cpu: [] },
  ];
  mkdirSync(join(tmp, 'boot'));
  const fifo = new PidLines(join(tmp, 'boot', 'pids.fifo'));
  try {
    for (let i = 0; i < boots; i++) {
      for (const [k, v] of variants.entries()) {
        const vEnv = v.supervisor === 's6' ? { ...env, WARDEN_RUN_DIR: runDir } : env;
        await bootOnce(v, join(tmp, 'boot', `${k}-${i}`), dirs[v.withContenv], vEnv, fifo);
      }
      progress(`boot ${i + 1}/${boots}: ${variants.map((v) => `${v.label} ${v.wall.at(-1)!.toFixed(0)} ms`).join('; ')}`);
    }
  } finally {
    fifo.close();
  }
  return variants;
}

function bootTable(variants: readonly BootVariant[]): string {
  const base = variants.find((v) => v.supervisor === 's6' && v.withContenv === 's6-overlay')!;
  const lines = ['| boot | wall, median | wall, p95 | CPU, median | wall × s6 | CPU × s6 |', '|---|---:|---:|---:|---:|---:|'];
  for (const v of variants) {
    const r = (a: number[], b: number[]) => (v === base ? '1' : `${(median(a) / median(b)).toFixed(2)}×`);
    lines.push(`| ${v.label} | ${ms(median(v.wall))} ms | ${ms(p95(v.wall))} ms | ${ms(median(v.cpu))} ms | ${r(v.wall, base.wall)} | ${r(v.cpu, base.cpu)} |`);
  }
  return lines.join('\n');
}

interface Results {
  contenv?: string;
  contenvGoal?: string;
  control?: string;
  cli?: string;
  cliGoal?: string;
  boot?: string;
}

function contenvGoal(samples: ReadonlyMap<string, { wall: number[]; cpu: number[] }>): string {
  const shim = samples.get('`with-contenv true` (dash), 100 variables')!;
  const envdir = samples.get('`s6-envdir -Lf DIR true`, 100 variables')!;
  const wall = median(shim.wall) / median(envdir.wall);
  const cpu = median(shim.cpu) / median(envdir.cpu);
  const met = wall <= CONTENV_GOAL && cpu <= CONTENV_GOAL;
  return `Goal: \`with-contenv\` ≤ ${CONTENV_GOAL}× \`s6-envdir\` with 100 variables: ${wall.toFixed(2)}× wall, ${cpu.toFixed(2)}× CPU: **${met ? 'met' : 'not met'}**.`;
}

function cliGoal(rows: readonly CliRow[]): string {
  const node = rows.find((r) => r.label === '`node -e 0`')!;
  const health = rows.find((r) => r.label === '`warden health`')!;
  const wall = median(health.times) / median(node.times);
  const cpu = median(health.cpu) / median(node.cpu);
  const rss = median(health.rssMb);
  const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
  return `Goal: \`warden health\` ≤ ${CLI_GOALS.ratio}× bare \`node -e 0\`: ${wall.toFixed(2)}× wall, ${cpu.toFixed(2)}× CPU: ${met(wall <= CLI_GOALS.ratio && cpu <= CLI_GOALS.ratio)}; peak RSS ≤ ${CLI_GOALS.rssMb} MB: ${rss.toFixed(1)} MB (bare Node ${median(node.rssMb).toFixed(1)} MB): ${met(rss <= CLI_GOALS.rssMb)}.`;
}

function markdown(r: Results, s: ReturnType<typeof settings>): string {
  const m = describeMachine();
  const out = [`\`npm run bench\` (bench/helpers.ts). ${m.date}; ${m.cpus} CPUs (${m.model}), Linux ${m.kernel}, Node ${m.node}; ${m.peers}.`];
  if (r.contenv !== undefined) {
    out.push(
      `**with-contenv.** ${s.rounds} rounds, interleaved; each call is one process timed by bash's \`time\` (wall, and CPU = user + system of the call and all it ran). The same env dir for every row; "dash" is the shim as its \`#!/bin/sh\` runs it on Debian.`,
      r.contenv,
      r.contenvGoal!,
    );
  }
  if (r.control !== undefined) {
    out.push(
      `**Status and control of one service** (notification-fd 3, ready at once): Debian's s6-svscan and s6-supervise beside warden (a sub-init in its own PID namespace), ${s.rounds} rounds, interleaved, timed as above; before the status and wait rows of each round both services are up and ready (unmeasured \`s6-svwait -U\`, \`warden wait --ready\`). warden's rows are \`node dist/src/cli/main.js …\`.`,
      r.control,
    );
  }
  if (r.cli !== undefined) out.push(`**warden's CLI against bare Node** (bench/cli-start.ts, ${s.cliRounds} rounds; CPU at /usr/bin/time's 10 ms resolution).`, r.cli, r.cliGoal!);
  if (r.boot !== undefined) {
    out.push(
      `**Boot with ${CONT_INIT_SCRIPTS} cont-init scripts** \`#!…/with-contenv bash\` (43 container variables), then one service: from the spawn to the service's first line; CPU of the whole process tree at that moment (10 ms ticks). ${s.boots} boots of each, interleaved; each supervisor is PID 1 of its own PID namespace. Under s6 the stage 2 is its simplest form (a shell runs the scripts in order, then execs s6-svscan), not s6-overlay's s6-rc oneshots: a floor for s6-overlay.`,
      r.boot,
    );
  }
  return out.join('\n\n');
}

async function main(): Promise<void> {
  const s = settings();
  ensureBinaries(['s6-envdir', 's6-svscan', 's6-svstat', 's6-svc', 's6-svwait', 'execlineb']);
  if (existsSync('/run/s6/container_environment')) throw new Error('/run/s6/container_environment exists on this host: the with-contenv shim would read it instead of the bench\'s env dir');
  const tmp = mkdtempSync(join(tmpdir(), 'warden-bench-helpers-'));
  const started: { s6?: Instance; warden?: SubInit } = {};
  const r: Results = {};
  try {
    if (s.parts.includes('contenv')) {
      progress('with-contenv against s6-envdir');
      const steps = contenvSteps(tmp);
      const samples = await measureCalls(steps, s.rounds, (n) => n % 10 === 0 && progress(`with-contenv round ${n}/${s.rounds}`));
      r.contenv = callTable(steps, samples);
      r.contenvGoal = contenvGoal(samples);
      process.stdout.write(`${r.contenv}\n${r.contenvGoal}\n\n`);
    }
    if (s.parts.includes('control')) {
      progress('status and control against s6-svstat, s6-svc, s6-svwait');
      const steps = await controlSteps(tmp, started);
      const samples = await measureCalls(steps, s.rounds, (n) => n % 10 === 0 && progress(`control round ${n}/${s.rounds}`));
      r.control = callTable(steps, samples);
      process.stdout.write(`${r.control}\n\n`);
      await started.warden?.stop();
      await started.s6?.stop();
    }
    if (s.parts.includes('cli')) {
      progress('the CLI against node -e 0');
      const rows = await runCliStartBench(s.cliRounds);
      r.cli = formatCliStart(rows, s.cliRounds);
      r.cliGoal = cliGoal(rows);
      process.stdout.write(`${r.cli}\n${r.cliGoal}\n\n`);
    }
    if (s.parts.includes('boot')) {
      progress(`boot with ${CONT_INIT_SCRIPTS} with-contenv cont-init scripts`);
      r.boot = bootTable(await bootPart(tmp, s.boots));
      process.stdout.write(`${r.boot}\n`);
    }
    if (s.parts.length === PARTS.length) {
      const doc = writeDocSection({ name: 'helpers', heading: "## Helpers: with-contenv, status and control against s6's", writer: '`npm run bench` (bench/helpers.ts)' }, markdown(r, s));
      progress(`wrote ${doc}`);
    } else {
      process.stdout.write(`\n${markdown(r, s)}\n`);
      progress('a part of the run (BENCH_HELPER_PARTS): docs/benchmarks.md left as it was');
    }
  } finally {
    await started.warden?.stop();
    await started.s6?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench helpers: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
