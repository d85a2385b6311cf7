/**
 * Side-by-side benchmark of warden against s6-svscan, runsvdir, supervisord, tini, sh and a
 * bare Node respawn loop: restart latency after kill -9, boot time, RSS. One run, same machine,
 * same service; prints a table and, after a complete run only, rewrites its section of
 * docs/benchmarks.md.
 * See docs/benchmarks.md for the method; env knobs are read in `settings()` below.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMachine } from './machine.js';
import { makeServices, PEERS, sweep, WARDEN_CLI, type Instance, type Peer } from './peers.js';
import { PidLines } from './pid-lines.js';
import { alive, cpuMs, statusKb, tree } from './procs.js';
import { goalsText, markdown, textTable, type Results, type RssSample } from './report.js';
import { median } from './stats.js';
import { envInt } from './env.js';
import { ensureBinaries } from './install-peers.js';
import { repoRoot, writeDocSection, type DocSection } from './doc-section.js';
import { writeSamples } from './samples.js';

const SECTION: DocSection = { name: 'supervisors', heading: '## Supervisors: restart, boot and RSS', writer: '`npm run bench` (bench/run.ts)' };

const PEER_BINARIES = ['s6-svscan', 's6-svscanctl', 'runsvdir', 'runsv', 'supervisord', 'tini'];
/** Above warden's longest backoff (30 s), so a backing-off restart is still measured. */
const RESTART_TIMEOUT_MS = 40_000;
const BOOT_TIMEOUT_MS = 15_000;

function settings() {
  return {
    kills: envInt('BENCH_KILLS', 100, 1),
    // Above warden's restart-reset (10 s) and runsv's / s6-supervise's 1 s: see the doc.
    spacingMs: envInt('BENCH_SPACING_MS', 10_200, 0),
    boots: envInt('BENCH_BOOTS', 20, 1),
    probeKills: envInt('BENCH_PROBE_KILLS', 8, 0),
    probeSpacingMs: envInt('BENCH_PROBE_SPACING_MS', 1100, 0),
    // RSS is read twice: right after boot, and once V8's memory reducer has run (~8 s after
    // boot, warden's heap gives back what booting used; the C peers do not change).
    rssBootMs: envInt('BENCH_RSS_BOOT_MS', 3000, 0),
    rssSettleMs: envInt('BENCH_RSS_SETTLE_MS', 15_000, 0),
    // A part of the run: BENCH_PHASES=boot,rss (of boot, rss, restart); BENCH_PEERS=warden,tini
    // (row names). A part is printed, not written to the doc.
    phases: envList('BENCH_PHASES', ['boot', 'rss', 'restart']),
    peers: envList('BENCH_PEERS', Object.keys(PEERS)),
  };
}

function envList(name: string, all: readonly string[]): readonly string[] {
  const value = process.env[name];
  if (value === undefined || value === '') return all;
  const picked = value.split(',').map((v) => v.trim());
  const unknown = picked.filter((v) => !all.includes(v));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')}; known: ${all.join(', ')}`);
  return all.filter((v) => picked.includes(v));
}
type Settings = ReturnType<typeof settings>;

/** The peers this run measures, in the table's order. */
const peersOf = (s: Settings): Peer[] => Object.values(PEERS).filter((p) => s.peers.includes(p.name));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const elapsedMs = (from: bigint, to: bigint) => Number(to - from) / 1e6;
const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, '-');

/** Everything started, so `finally` and signals can stop it all. */
class Lab {
  private readonly instances = new Set<Instance>();
  private readonly fifos = new Set<PidLines>();
  constructor(readonly tmp: string) {}

  fifo(path: string): PidLines {
    const lines = new PidLines(path);
    this.fifos.add(lines);
    return lines;
  }

  launch(peer: Peer, root: string, serviceDirs: readonly string[]): Instance {
    const inst = peer.launch(root, serviceDirs);
    this.instances.add(inst);
    return inst;
  }

  async stop(inst: Instance): Promise<void> {
    this.instances.delete(inst);
    await inst.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.instances].map((i) => this.stop(i)));
    for (const f of this.fifos) f.close();
    this.fifos.clear();
    sweep(this.tmp);
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Boot times (ms) and the CPU time the supervisor's processes took to get there (ms), per peer. */
async function bootPhase(lab: Lab, s: Settings): Promise<{ boot: Map<string, number[]>; bootCpu: Map<string, number[]> }> {
  const peers = peersOf(s);
  const out = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const cpu = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  mkdirSync(join(lab.tmp, 'boot'));
  const fifo = lab.fifo(join(lab.tmp, 'boot', 'pids.fifo'));
  for (let i = 0; i < s.boots; i++) {
    for (const peer of peers) {
      const root = join(lab.tmp, 'boot', `${slug(peer.name)}-${i}`);
      const services = makeServices(root, ['svc'], fifo.path, peer.notificationFd);
      fifo.clear();
      const before = process.hrtime.bigint();
      const inst = lab.launch(peer, root, services);
      try {
        const line = await fifo.next(BOOT_TIMEOUT_MS);
        out.get(peer.name)!.push(elapsedMs(before, line.at));
        // On a loaded machine wall time is mostly waiting for a CPU; this is the work itself
        // (the service excluded; s6-supervise and runsv, forked by their scanner, included).
        const own = tree(inst.child.pid!, new Set([line.pid]));
        cpu.get(peer.name)!.push(own.reduce((total, p) => total + cpuMs(p.pid), 0));
      } catch (err) {
        throw new Error(`boot of ${peer.name}: ${(err as Error).message}; see ${join(root, 'supervisor.log')}`);
      } finally {
        await lab.stop(inst);
      }
      rmSync(root, { recursive: true, force: true });
    }
    progress(`boot run ${i + 1}/${s.boots}: ${[...out].map(([name, ms]) => `${name} ${ms.at(-1)!.toFixed(1)} (cpu ${cpu.get(name)!.at(-1)!.toFixed(1)})`).join(', ')} (ms)`);
  }
  return { boot: out, bootCpu: cpu };
}

async function rssPhase(lab: Lab, s: Settings): Promise<Map<string, RssSample>> {
  const out = new Map<string, RssSample>();
  for (const peer of peersOf(s).filter((p) => p.supervises)) {
    const root = join(lab.tmp, 'rss', slug(peer.name));
    mkdirSync(root, { recursive: true });
    const fifo = lab.fifo(join(root, 'pids.fifo'));
    const services = makeServices(root, ['a', 'b', 'c'], fifo.path, peer.notificationFd);
    const inst = lab.launch(peer, root, services);
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 3; i++) pids.add((await fifo.next(BOOT_TIMEOUT_MS)).pid);
      const own = () => tree(inst.child.pid!, pids);
      const sum = (field: 'VmRSS' | 'VmHWM') => own().reduce((kb, p) => kb + statusKb(p.pid, field), 0);
      await sleep(s.rssBootMs);
      const bootKb = sum('VmRSS');
      await sleep(s.rssSettleMs - s.rssBootMs);
      const counts = new Map<string, number>();
      for (const p of own()) counts.set(p.comm, (counts.get(p.comm) ?? 0) + 1);
      const sample = {
        kb: sum('VmRSS'),
        bootKb,
        peakKb: sum('VmHWM'),
        processes: [...counts].map(([comm, n]) => (n > 1 ? `${comm} ×${n}` : comm)).join(' + '),
      };
      out.set(peer.name, sample);
      const mb = (kb: number) => (kb / 1024).toFixed(1);
      progress(`rss ${peer.name}: ${mb(sample.kb)} MB settled, ${mb(bootKb)} MB after boot, peak ${mb(sample.peakKb)} MB (${sample.processes})`);
    } finally {
      await lab.stop(inst);
    }
  }
  return out;
}

interface Track {
  readonly peer: Peer;
  readonly inst: Instance;
  readonly fifo: PidLines;
  pid: number;
  startedAt: bigint;
  readonly samples: number[];
  /** Why this supervisor dropped out of the measurement, if it did. */
  failure: string | null;
}

function failureOf(t: Track, what: string, err: unknown): string {
  const pid = t.inst.child.pid;
  const state = pid !== undefined && alive(pid) ? 'its supervisor process was still alive' : 'its supervisor process was gone';
  return `${what}: ${(err as Error).message} (${state})`;
}

/** Kills the track's service and waits for its next start; returns the latency in ms. */
async function killOnce(t: Track): Promise<number> {
  const before = process.hrtime.bigint();
  process.kill(t.pid, 'SIGKILL');
  const line = await t.fifo.next(RESTART_TIMEOUT_MS);
  t.pid = line.pid;
  t.startedAt = line.at;
  return elapsedMs(before, line.at);
}

async function restartPhase(lab: Lab, s: Settings): Promise<{ restart: Map<string, number[]>; probe: Map<string, number[]>; failures: Map<string, string> }> {
  const tracks: Track[] = [];
  for (const peer of peersOf(s).filter((p) => p.supervises)) {
    const root = join(lab.tmp, 'restart', slug(peer.name));
    mkdirSync(root, { recursive: true });
    const fifo = lab.fifo(join(root, 'pids.fifo'));
    const inst = lab.launch(peer, root, makeServices(root, ['svc'], fifo.path, peer.notificationFd));
    const first = await fifo.next(BOOT_TIMEOUT_MS);
    tracks.push({ peer, inst, fifo, pid: first.pid, startedAt: first.at, samples: [], failure: null });
  }
  const slotNs = BigInt(Math.round((s.spacingMs / tracks.length) * 1e6));
  const spacingNs = BigInt(s.spacingMs) * 1_000_000n;
  let lastKill = 0n;
  const t0 = Date.now();
  for (let round = 0; round < s.kills; round++) {
    for (const t of tracks) {
      if (t.failure) continue;
      // Up for the full spacing, and a slot after the previous kill of anyone: one in flight.
      const wake = [t.startedAt + spacingNs, lastKill + slotNs].reduce((a, b) => (a > b ? a : b));
      await sleep(elapsedMs(process.hrtime.bigint(), wake));
      lastKill = process.hrtime.bigint();
      try {
        t.samples.push(await killOnce(t));
      } catch (err) {
        // Keep measuring the others; the report says who dropped out and why.
        t.failure = failureOf(t, `kill ${round + 1}`, err);
        progress(`${t.peer.name} dropped out: ${t.failure}`);
      }
    }
    if ((round + 1) % 10 === 0 || round + 1 === s.kills) {
      const eta = ((Date.now() - t0) / (round + 1)) * (s.kills - round - 1);
      progress(
        `kill round ${round + 1}/${s.kills} ` +
          tracks.map((t) => `${t.peer.name} ${median(t.samples).toFixed(2)}`).join(', ') +
          ` (ms, median so far; ~${Math.round(eta / 1000)} s left)`,
      );
    }
  }
  const restart = new Map(tracks.map((t) => [t.peer.name, t.samples]));

  // Probe: what each restart policy does when kills come faster than its reset time.
  const probe = new Map<string, number[]>();
  if (s.probeKills > 0) {
    progress(`probe: ${s.probeKills} kills ${s.probeSpacingMs} ms apart per supervisor`);
    await Promise.all(
      tracks.map(async (t, i) => {
        if (t.failure) return;
        const samples: number[] = [];
        probe.set(t.peer.name, samples);
        // Up ≥ spacing before the first probe kill too, so the probe starts from a long run;
        // staggered so no two supervisors are killed in the same instant.
        await sleep(elapsedMs(process.hrtime.bigint(), t.startedAt + spacingNs) + i * 150);
        for (let k = 0; k < s.probeKills; k++) {
          if (k > 0) await sleep(elapsedMs(process.hrtime.bigint(), t.startedAt + BigInt(s.probeSpacingMs) * 1_000_000n));
          try {
            samples.push(await killOnce(t));
          } catch (err) {
            t.failure = failureOf(t, `probe kill ${k + 1}`, err);
            return;
          }
        }
      }),
    );
  }
  for (const t of tracks) await lab.stop(t.inst);
  const failures = new Map(tracks.filter((t) => t.failure !== null).map((t) => [t.peer.name, t.failure!]));
  return { restart, probe, failures };
}

function notes(r: Omit<Results, 'notes'>, failures: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [name, why] of failures) {
    out.push(`**${name} dropped out of the restart measurement** after ${r.restart.get(name)?.length ?? 0} kills: ${why}.`);
  }
  const w = r.probe.get('warden');
  if (w && w.length > 1) {
    out.push(
      `At ${r.settings.probeSpacingMs} ms spacing warden backs off by design (defaults \`restart-delay 0 30000\`, ` +
        `\`restart-reset 10000\`): its probe latencies were ${w.map((x) => x.toFixed(0)).join(', ')} ms, where runsvdir's were ` +
        `${(r.probe.get('runsvdir') ?? []).map((x) => x.toFixed(0)).join(', ')} ms. Only the main table's spacing ` +
        `(${r.settings.spacingMs} ms) compares the immediate-restart paths.`,
    );
  }
  const s6 = median(r.restart.get('s6-svscan') ?? []);
  if (s6 > 500) {
    out.push(
      `s6-svscan's ${s6.toFixed(0)} ms is s6-supervise's policy, not its speed: since s6 2.11 it waits 1 s after ` +
        `a death before restarting unless the service signalled readiness (notification-fd) more than 1 s before it ` +
        `died (\`set_down_and_ready\` in s6-supervise.c). With the plain script that wait always applies; the ` +
        `"s6 +notification-fd" row adds \`echo >&3\` to the script and shows s6's immediate path.`,
    );
  }
  const rb = median(r.boot.get('runsvdir') ?? []);
  if (rb > 500) out.push(`runsvdir's boot (${rb.toFixed(0)} ms median) was observed to include a wait of about 1 s before it starts its first runsv.`);
  const sv = median(r.restart.get('supervisord') ?? []);
  if (sv > 50) {
    out.push(
      `supervisord's restart latency (${sv.toFixed(0)} ms median) is a steady ~1 s, not a spread over 0–1 s: ` +
        `consistent with its main loop acting on a dead child only on the loop turn after its 1 s poll() timeout.`,
    );
  }
  out.push(
    `All peers share this ${r.machine.cpus}-CPU machine in one run: whatever else runs on it adds the same noise to ` +
      `each of them, mostly to the p95 values; compare medians and ratios.`,
  );
  return out;
}

/**
 * Keeps each phase's raw samples in docs/data/ (bench/samples.ts) for the charts: a phase run
 * over every peer is a whole measurement on its own, so it is kept even in a part of a run.
 */
function keepSamples(r: Results, failures: ReadonlyMap<string, string>): void {
  const { kills, spacingMs, boots, probeKills, probeSpacingMs } = r.settings;
  const keep = (name: string, what: string, settings: Record<string, number>, samples: ReadonlyMap<string, readonly number[]>, dropped = failures) => {
    if (samples.size === 0) return;
    const data = { what, machine: r.machine, settings, samples: Object.fromEntries(samples), failures: Object.fromEntries(dropped) };
    progress(`kept the samples in ${writeSamples(name, data)}`);
  };
  keep('supervisors-restart', `kill -9 of the service → its next start, ${kills} kills ${spacingMs} ms apart`, { kills, spacingMs }, r.restart);
  keep('supervisors-restart-probe', `kill -9 → next start, ${probeKills} kills ${probeSpacingMs} ms apart, in kill order`, { probeKills, probeSpacingMs }, r.probe);
  keep('supervisors-boot', `spawn of the supervisor → its service started, ${boots} boots`, { boots }, r.boot, new Map());
}

/**
 * What an image gains: the release tarball's size beside s6-overlay's (v3.2: noarch 0.1 MB +
 * x86_64 3.4 MB, as its release page lists them).
 */
function releaseSizeText(root: string): string {
  const tarball = join(root, 'release', `warden-linux-${process.arch}.tar.xz`);
  if (!existsSync(tarball)) return 'release tarball: not built (npm run dist)';
  return `release tarball: ${(statSync(tarball).size / 1e6).toFixed(1)} MB (${tarball.split('/').pop()}); s6-overlay noarch + x86_64: ≈3.5 MB`;
}

async function main(): Promise<void> {
  const s = settings();
  const root = repoRoot();
  if (!existsSync(WARDEN_CLI)) throw new Error(`${WARDEN_CLI} not found: build first (npm run build)`);
  ensureBinaries(PEER_BINARIES);
  const lab = new Lab(mkdtempSync(join(tmpdir(), 'warden-bench-')));
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`${sig}: stopping everything`);
    void lab.stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const machine = describeMachine();
    progress(`kills ${s.kills} × spacing ${s.spacingMs} ms, boots ${s.boots}; temp dir ${lab.tmp}`);
    const { boot, bootCpu } = s.phases.includes('boot') ? await bootPhase(lab, s) : { boot: new Map<string, number[]>(), bootCpu: new Map<string, number[]>() };
    const rss = s.phases.includes('rss') ? await rssPhase(lab, s) : new Map<string, RssSample>();
    const none = { restart: new Map<string, number[]>(), probe: new Map<string, number[]>(), failures: new Map<string, string>() };
    const { restart, probe, failures } = s.phases.includes('restart') ? await restartPhase(lab, s) : none;
    const partial = { machine, settings: s, restart, probe, boot, bootCpu, rss };
    const results: Results = { ...partial, notes: notes(partial, failures) };
    process.stdout.write(`${textTable(results)}\n\n${goalsText(results)}\n${releaseSizeText(root)}\n`);
    if (s.peers.length === Object.keys(PEERS).length) keepSamples(results, failures);
    if (s.phases.length === 3 && s.peers.length === Object.keys(PEERS).length) progress(`wrote ${writeDocSection(SECTION, markdown(results))}`);
    else progress('a part of the run (BENCH_PHASES, BENCH_PEERS): docs/benchmarks.md left as it was');
  } finally {
    await lab.stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
