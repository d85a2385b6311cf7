/** Turns a complete run into the stdout table and docs/benchmarks.md. */
import type { Machine } from './machine.js';
import { median, ms, p95, ratio } from './stats.js';

export interface Results {
  readonly machine: Machine;
  readonly settings: { kills: number; spacingMs: number; boots: number; probeKills: number; probeSpacingMs: number; rssBootMs: number; rssSettleMs: number };
  /** kill -9 → next pid line, ms, per supervisor. */
  readonly restart: ReadonlyMap<string, readonly number[]>;
  /** The same at the short probe spacing, in kill order. */
  readonly probe: ReadonlyMap<string, readonly number[]>;
  /** spawn → first pid line, ms. */
  readonly boot: ReadonlyMap<string, readonly number[]>;
  /** CPU time of the supervisor's own processes from spawn to that pid line, ms. */
  readonly bootCpu: ReadonlyMap<string, readonly number[]>;
  readonly rss: ReadonlyMap<string, RssSample>;
  readonly notes: readonly string[];
}

/** Sums over the supervisor's own processes, in kB, and what they were. */
export interface RssSample {
  /** VmRSS once settled: what the container pays for the supervisor's whole life. */
  readonly kb: number;
  /** VmRSS shortly after boot. */
  readonly bootKb: number;
  /** VmHWM: the most it ever held. */
  readonly peakKb: number;
  readonly processes: string;
}

/** The rows measured, in the order they were (bench/peers.ts's PEERS). */
function names(r: Results): string[] {
  return [...new Set([...r.boot.keys(), ...r.rss.keys(), ...r.restart.keys()])];
}

interface Row {
  name: string;
  cells: string[];
}

function rows(r: Results): Row[] {
  const w = {
    restart: median(r.restart.get('warden') ?? []),
    restartP95: p95(r.restart.get('warden') ?? []),
    boot: median(r.boot.get('warden') ?? []),
    rss: (r.rss.get('warden')?.kb ?? Number.NaN) / 1024,
  };
  return names(r).map((name) => {
    const restart = r.restart.get(name);
    const boot = r.boot.get(name) ?? [];
    const bootCpu = r.bootCpu.get(name) ?? [];
    const rss = r.rss.get(name);
    const rm = restart ? median(restart) : Number.NaN;
    const rp = restart ? p95(restart) : Number.NaN;
    const mb = rss ? rss.kb / 1024 : Number.NaN;
    return {
      name,
      cells: [
        restart ? `${ms(rm)}` : '—',
        restart ? `${ms(rp)}` : '—',
        restart ? ratio(rm, w.restart) : '—',
        restart ? `${restart.length}` : '—',
        `${ms(median(boot))}`,
        `${ms(p95(boot))}`,
        ratio(median(boot), w.boot),
        `${ms(median(bootCpu))}`,
        rss ? mb.toFixed(1) : '—',
        rss ? ratio(mb, w.rss) : '—',
      ],
    };
  });
}

const HEADERS = ['supervisor', 'restart median ms', 'restart p95 ms', 'restart ×warden', 'kills', 'boot median ms', 'boot p95 ms', 'boot ×warden', 'boot CPU median ms', 'RSS MB (3 svc)', 'RSS ×warden'];

/** A fixed-width table for stdout. */
export function textTable(r: Results): string {
  const data = rows(r).map((row) => [row.name, ...row.cells]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...data.map((d) => d[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(HEADERS), line(widths.map((n) => '-'.repeat(n))), ...data.map(line)].join('\n');
}

export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

/** The project's goals, judged on warden's numbers. */
export function goals(r: Results): Goal[] {
  const restart = median(r.restart.get('warden') ?? []);
  const runit = median(r.restart.get('runsvdir') ?? []);
  const boot = median(r.boot.get('warden') ?? []);
  const mb = (r.rss.get('warden')?.kb ?? Number.NaN) / 1024;
  // "On par": within 1.5× of runit's median, or within 1 ms of it when both are sub-ms noise.
  const parBound = Math.max(1.5 * runit, runit + 1);
  const all: (Goal & { of: number })[] = [
    { goal: 'restart after kill -9: median ≤ 5 ms', measured: `${ms(restart)} ms`, met: restart <= 5, of: restart },
    {
      goal: 'restart on par with runit (median ≤ max(1.5 × runsvdir, runsvdir + 1 ms))',
      measured: `${ms(restart)} ms vs runsvdir ${ms(runit)} ms (bound ${ms(parBound)} ms)`,
      met: restart <= parBound,
      of: parBound,
    },
    { goal: 'boot (spawn → service started): median ≤ 120 ms', measured: `${ms(boot)} ms`, met: boot <= 120, of: boot },
    { goal: 'RSS with 3 services ≤ 50 MB', measured: `${mb.toFixed(1)} MB`, met: mb <= 50, of: mb },
  ];
  // A part of a run (BENCH_PHASES, BENCH_PEERS) judges only what it measured.
  return [...all.filter((g) => !Number.isNaN(g.of)).map(({ goal, measured, met }) => ({ goal, measured, met })), ...releaseGoals(r)];
}

/**
 * The release's executable (issue 13): boot below the floor of a bare Node (the release's own
 * Node when it is measured, else this machine's), RSS with 3 services ≤ 45 MB. Each of its rows
 * that was measured is judged.
 */
function releaseGoals(r: Results): Goal[] {
  const out: Goal[] = [];
  const floorName = names(r).find((n) => /^node \d.* floor$/.test(n)) ?? 'node floor';
  const floor = median(r.boot.get(floorName) ?? []);
  for (const name of names(r).filter((n) => n.startsWith('warden (one executable'))) {
    const boot = r.boot.get(name);
    if (boot && boot.length > 0 && !Number.isNaN(floor)) {
      const b = median(boot);
      out.push({ goal: `${name}: boot median below ${floorName}'s`, measured: `${ms(b)} ms vs ${ms(floor)} ms (${ratio(b, floor)})`, met: b < floor });
    }
    const rss = r.rss.get(name);
    if (rss) out.push({ goal: `${name}: RSS with 3 services ≤ 45 MB`, measured: `${(rss.kb / 1024).toFixed(1)} MB`, met: rss.kb / 1024 <= 45 });
  }
  return out;
}

export function goalsText(r: Results): string {
  return goals(r)
    .map((g) => `${g.met ? 'met    ' : 'NOT MET'}  ${g.goal}: ${g.measured}`)
    .join('\n');
}

/** The supervisors section of docs/benchmarks.md (bench/doc-section.ts puts it in place). */
export function markdown(r: Results): string {
  const { machine: m, settings: s } = r;
  const table = [
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows(r).map((row) => `| ${row.name} | ${row.cells.join(' | ')} |`),
  ].join('\n');
  const goalRows = goals(r)
    .map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? '**met**' : '**not met**'} |`)
    .join('\n');
  const probe = [...r.probe.entries()]
    .map(([name, samples]) => `| ${name} | ${samples.map(ms).join(', ')} |`)
    .join('\n');
  const mb = (kb: number): string => (kb / 1024).toFixed(1);
  const rss = [...r.rss.entries()].map(([name, v]) => `| ${name} | ${mb(v.kb)} | ${mb(v.bootKb)} | ${mb(v.peakKb)} | ${v.processes} |`).join('\n');
  return `warden side by side with s6 (\`s6-svscan\`), runit (\`runsvdir\`), supervisord, tini, a bare
\`sh\`, and a floor: a Node process that only does \`child.on('exit', respawn)\`. All were
measured in one run of \`npm run bench\` (\`bench/run.ts\`), on the same machine, on the same
service. Ratios are *value / warden's value*: above 1× the peer is slower or bigger than warden.

### Machine

| | |
|---|---|
| date | ${m.date} |
| CPUs | ${m.cpus} × ${m.model} |
| memory | ${m.memory} |
| kernel | ${m.kernel} |
| Node | ${m.node} |
| peers (Debian packages) | ${m.peers} |

### Results

${table}

Restart: ${s.kills} \`kill -9\` per supervisor, each service killed only after it had been up
${s.spacingMs} ms. Boot: ${s.boots} runs each. RSS: one instance each with 3 services, services excluded,
${s.rssSettleMs / 1000} s after the services started (see RSS detail for the reading right after boot).

### Goals

| goal | measured | |
|---|---|---|
${goalRows}

${r.notes.map((n) => `- ${n}`).join('\n')}

### Method

**The service.** Every supervisor runs the same \`run\` script:

\`\`\`sh
#!/bin/sh
echo $$ > FIFO
exec sleep 100000
\`\`\`

\`echo\` is a shell builtin, so announcing the start costs no fork. The bench holds each FIFO
open read+write (so a writer never blocks and no EOF arrives) and stamps every pid line with
\`process.hrtime.bigint()\` on the event-loop turn it arrives.

**Restart latency.** All supervisors (warden, s6-svscan twice, runsvdir, supervisord, node
floor) run at the same time, each with one service and its own FIFO. The bench kills their
services round-robin, one kill at a time, never two in flight: hrtime right before
\`process.kill(pid, 'SIGKILL')\`, latency = arrival of the next pid line − that time. It waits
for the restart before the next kill, so kills of different supervisors are interleaved
\`${s.spacingMs} / ${r.restart.size}\` ms apart.

*Spacing.* Each service is killed only after it has been up ≥ ${s.spacingMs} ms
(\`BENCH_SPACING_MS\`). runsv waits until 1 s has passed since the previous start; s6-supervise
2.11 waits 1 s after a death unless the service was *ready* (notification-fd) for more than 1 s,
so with the plain script it always waits (hence the extra "s6 +notification-fd" row, whose
script adds \`echo >&3\` and a \`notification-fd\` file holding 3); warden, with its defaults (\`restart-delay\` \`0 30000\`,
\`restart-reset\` 10000 ms, left untouched), restarts at once only after a run ≥ 10 s, and
otherwise backs off 100, 200, 400 … ms. ${s.spacingMs} ms is above all of these, so every
supervisor but plain s6 is measured on its immediate-restart path. A probe at the end shows what happens at a
${s.probeSpacingMs} ms spacing (below).

**Boot.** From right before \`spawn()\` of the supervisor to the first pid line: ${s.boots} runs
each, interleaved (run *i* of every supervisor before run *i+1*), each in a fresh dir (fresh
\`supervise/\` state). tini runs \`tini -s -- ./run\`, sh runs \`sh run\`. Boot CPU: when the
pid line arrives, the CPU time the supervisor's own processes have run (the sum over their
threads of \`/proc/PID/task/TID/schedstat\`), the service excluded: on a loaded machine the
wall time is mostly waiting for a CPU, the CPU time is the work.

**RSS.** One instance per supervisor with 3 such services. Once all three announced themselves,
the sum of \`VmRSS\` over the supervisor's own process tree is read twice: ${s.rssBootMs / 1000} s later
(after boot) and ${s.rssSettleMs / 1000} s later (settled: the figure in the tables), with the sum of
\`VmHWM\` (peak) beside them. Some 8 s after boot V8's memory reducer runs its first
memory-reducing GC and warden's heap gives back what booting needed; the C peers do not change.
Services are not counted (warden: the node process; s6: s6-svscan + 3 × s6-supervise; runit:
runsvdir + 3 × runsv; supervisord: the python process; floor: the node process). warden runs as
a sub-init here (not PID 1), so it makes itself a subreaper at once and has koffi loaded (~2 MB);
as PID 1 it loads koffi on the first orphan, notify socket or control client.

**Peers' configuration**, as plain as their docs: \`s6-svscan SCANDIR\` on a scandir of service
dirs (the same dirs warden reads); \`runsvdir DIR\`; \`supervisord -n -c CONF\` with one
\`[program:x] command=…/run directory=… autorestart=true startsecs=0\` per service; warden as
\`node dist/src/cli/main.js boot --services DIR\` with \`WARDEN_LOG_LEVEL=warn\`. Each runs in
its own process group and is stopped the way its docs say (\`s6-svscanctl -t\`, SIGHUP to
runsvdir, SIGTERM to the others), then its group and anything left with a working dir under the
bench's temp dir are SIGKILLed.

Run it: \`npm run bench\` (root; it runs \`scripts/install-bench-deps.sh\` first when a peer is
missing, which installs s6, runit, supervisor and tini from Debian's apt). A quick run:
\`BENCH_KILLS=10 BENCH_SPACING_MS=1100 BENCH_BOOTS=3 npm run bench\` (at 1.1 s spacing warden is
measured while backing off; see the probe). Other knobs: \`BENCH_PROBE_KILLS\`,
\`BENCH_PROBE_SPACING_MS\`, \`BENCH_RSS_BOOT_MS\`, \`BENCH_RSS_SETTLE_MS\`.

### Probe: kills ${s.probeSpacingMs} ms apart

${s.probeKills} kills per supervisor, each ${s.probeSpacingMs} ms after the previous restart
(all supervisors probed at the same time, so these numbers carry a little cross-talk; they show
the restart policy, not the fast path). Latencies in ms, in kill order:

| supervisor | latencies (ms) |
|---|---|
${probe}

### RSS detail

| supervisor | settled MB | after boot MB | peak MB | processes counted |
|---|---:|---:|---:|---|
${rss}
`;
}
