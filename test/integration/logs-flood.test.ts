/**
 * Two services flooding their output while a third restarts on time, warden as PID 1: once with
 * the container's stdout read as fast as it comes (the floods reach the disk and rotate), once
 * with a stdout nobody reads (a stuck `docker logs`: the floods must be paused, not buffered).
 * Either way supervision goes on: the third service restarts on time, `status` answers, and
 * warden's memory stays bounded.
 *
 * The bounds catch a stalled supervisor, not a slow one (speed belongs to the benchmarks), and
 * they hold on a busy machine. The watch ends after a count of restarts, not after a time, so a
 * supervisor that stops restarting fails (by the test's timeout) however long the machine takes.
 * The ticker stamps its own start and its exit, so each restart is measured from the death it
 * follows; the median restart is allowed, beyond a fixed slack, a multiple of how late the
 * ticker's own `sleep` and `date` ran (the machine's slowness as the test sees it). The median,
 * not the worst: on a loaded machine any one restart can wait for a CPU for a second.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceStatus } from '../../src/protocol/service-status.js';
import { statusOf } from './control-helpers.js';
import { eventually, Sandbox, sq, type ServiceDef } from './harness.js';

/** How long the restarting service sleeps before it exits 3. */
const RUN_MS = 300;
/** What the median restart may take beyond LATE_FACTOR times the ticker's median lateness. */
const SLACK_MS = 700;
const LATE_FACTOR = 4;
/** The watch lasts at least this long (the floods rotate meanwhile) and sees this many restarts. */
const WATCH_MS = 6000;
const RESTARTS = 5;
const RSS_BOUND_MB = 300;
/** A status request is answered (a stalled warden never answers); how fast is the benchmarks' business. */
const STATUS_ANSWER_MS = 60_000;

/** Shell run before warden is exec'd as PID 1: its fd (1 or 2) on a pipe read at full speed. */
const readAtFullSpeed = (fd: 1 | 2): string => `mkfifo "$F"\ncat "$F" >/dev/null &\nexec ${fd}>"$F"`;
/** …on a pipe nobody reads (a stuck `docker logs`). */
const neverRead = (fd: 1 | 2): string => `mkfifo "$F"\nsleep 100000 <"$F" &\nexec ${fd}>"$F"`;

function vmRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/** Times (ms) the restarting service wrote itself, straight to a file (none yet: empty). */
function stampsIn(file: string): number[] {
  return (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(BigInt(l) / 1_000_000n));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Each restart of the ticker after `from`: how long after its exit the next run started, and how
 * late the ticker's own runs on either side were (the later one's run time beyond RUN_MS).
 */
function restartsAfter(starts: readonly number[], exits: readonly number[], from: number): { gap: number; late: number }[] {
  const lateness = (i: number): number => (exits[i] === undefined ? 0 : exits[i]! - starts[i]! - RUN_MS);
  const found: { gap: number; late: number }[] = [];
  for (let i = 0; i + 1 < starts.length && exits[i] !== undefined; i++) {
    if (starts[i]! < from) continue;
    found.push({ gap: starts[i + 1]! - exits[i]!, late: Math.max(lateness(i), lateness(i + 1)) });
  }
  return found;
}

async function floodWhileRestarting(
  t: TestContext,
  prelude: string,
  more: Readonly<Record<string, ServiceDef>> = {},
  cmd?: readonly string[],
  /** The watch also lasts until this holds of the services' status. */
  enough: (all: readonly ServiceStatus[]) => boolean = () => true,
): Promise<{ box: Sandbox; gaps: number[] }> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const starts = box.path('starts');
  const exits = box.path('exits');
  const small = { 'log-max-bytes': '262144', 'log-keep': '3' };
  await box.service('flood1', { run: `exec yes 'flood one ${'x'.repeat(80)}'`, files: small });
  await box.service('flood2', { run: `exec yes 'flood two ${'y'.repeat(80)}' >&2`, files: small });
  await box.service('ticker', {
    run: `date +%s%N >> ${sq(starts)}\necho started\nsleep ${RUN_MS / 1000}\ndate +%s%N >> ${sq(exits)}\nexit 3`,
    files: { 'restart-delay': '0 0' },
  });
  for (const [name, def] of Object.entries(more)) await box.service(name, def);
  const count = 3 + Object.keys(more).length;
  const socket = box.path('control.sock');
  const warden = box.boot({ prelude: `F=${sq(box.path('out.fifo'))}\n${prelude}`, ...(cmd ? { cmd } : {}) });
  t.after(() => warden.kill());
  const answers = async (): Promise<boolean> => {
    if (warden.exited) throw new Error(`warden exited during boot; ${warden.tail()}`);
    return (await statusOf(socket).catch(() => [])).length === count;
  };
  await eventually('warden to answer status', answers, 15_000, 50);
  const pid = await warden.hostPid();

  const from = Date.now();
  let maxRss = 0;
  let maxStatusMs = 0;
  let restarts: { gap: number; late: number }[] = [];
  let all: ServiceStatus[] = [];
  // Only the exits of runs that started in the window count; a run ending after it is waited for.
  while (Date.now() - from < WATCH_MS || restarts.length < RESTARTS || !enough(all)) {
    const asked = Date.now();
    all = await statusOf(socket, [], { timeoutMs: STATUS_ANSWER_MS });
    maxStatusMs = Math.max(maxStatusMs, Date.now() - asked);
    assert.equal(all.length, count);
    maxRss = Math.max(maxRss, vmRssMb(pid));
    assert.equal(warden.exited, false, `warden exited: ${warden.tail()}`);
    restarts = restartsAfter(stampsIn(starts), stampsIn(exits), from);
    await sleep(250);
  }
  assert.ok(maxRss <= RSS_BOUND_MB, `warden grew to ${maxRss.toFixed(0)} MB`);
  const gaps = restarts.map((r) => r.gap);
  const late = median(restarts.map((r) => r.late));
  const bound = SLACK_MS + LATE_FACTOR * late;
  assert.ok(median(gaps) <= bound, `restarts came a median ${median(gaps)} ms after the exit, allowed ${bound} (the ticker ran a median ${late} ms late): ${JSON.stringify(restarts)}`);
  t.diagnostic(`${restarts.length} restarts in ${Date.now() - from} ms, ${Math.min(...gaps)}–${median(gaps)}–${Math.max(...gaps)} ms (min–median–max) after each exit, allowed a median ${bound}; status ≤ ${maxStatusMs} ms; RSS ≤ ${maxRss.toFixed(0)} MB`);
  return { box, gaps };
}

test('a service restarts on time while two others flood a stdout read at full speed', { timeout: 120_000 }, async (t) => {
  const { box } = await floodWhileRestarting(t, readAtFullSpeed(1));
  // The floods really flooded: both rotated, stdout and stderr alike.
  for (const name of ['flood1', 'flood2']) {
    const archives = (await readdir(box.path('log', name))).filter((f) => f.startsWith('@'));
    assert.ok(archives.length >= 1, `${name} rotated (files: ${archives.join(', ')})`);
  }
});

test('a service restarts on time while two others flood a stdout nobody reads', { timeout: 120_000 }, async (t) => {
  await floodWhileRestarting(t, neverRead(1));
});

test('…and so it does with a CMD sharing that stdout (whose spawn makes the shared pipe blocking)', { timeout: 120_000 }, async (t) => {
  await floodWhileRestarting(t, neverRead(1), {}, ['sleep', '100000']);
});

test("a service restarts on time while warden's own stderr is never read", { timeout: 120_000 }, async (t) => {
  // A service dying 100 times a second makes warden log far more than a pipe holds.
  const crasher = { run: 'exit 1', files: { 'restart-delay': '10 10' } };
  // The watch goes on until it has (however slowly the machine lets it crash).
  await floodWhileRestarting(t, neverRead(2), { crasher }, undefined, (all) => all.some((s) => s.name === 'crasher' && s.restarts > 100));
});
