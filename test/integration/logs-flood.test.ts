/**
 * Two services flooding their output while a third restarts on time, warden as PID 1: once with
 * the container's stdout read as fast as it comes (the floods reach the disk and rotate), once
 * with a stdout nobody reads (a stuck `docker logs`: the floods must be paused, not buffered).
 * Either way supervision goes on: the third service restarts on time, `status` answers, and
 * warden's memory stays bounded.
 *
 * The bounds are generous (a restart takes a few ms and is allowed 700): they catch a stalled
 * supervisor, not a slow one; speed belongs to the benchmarks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { statusOf } from './control-helpers.js';
import { eventually, Sandbox, sq, type ServiceDef } from './harness.js';

/** How long the restarting service runs before it exits 3. */
const RUN_MS = 300;
const SLACK_MS = 700;
const WATCH_MS = 6000;
const RSS_BOUND_MB = 300;
const STATUS_BOUND_MS = 2000;

/** Shell run before warden is exec'd as PID 1: its fd (1 or 2) on a pipe read at full speed. */
const readAtFullSpeed = (fd: 1 | 2): string => `mkfifo "$F"\ncat "$F" >/dev/null &\nexec ${fd}>"$F"`;
/** …on a pipe nobody reads (a stuck `docker logs`). */
const neverRead = (fd: 1 | 2): string => `mkfifo "$F"\nsleep 100000 <"$F" &\nexec ${fd}>"$F"`;

function vmRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/** Start times (ms) the restarting service wrote itself, straight to a file. */
function startTimes(file: string): number[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(BigInt(l) / 1_000_000n));
}

async function floodWhileRestarting(
  t: TestContext,
  prelude: string,
  more: Readonly<Record<string, ServiceDef>> = {},
  cmd?: readonly string[],
): Promise<{ box: Sandbox; gaps: number[] }> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const stamps = box.path('starts');
  const small = { 'log-max-bytes': '262144', 'log-keep': '3' };
  await box.service('flood1', { run: `exec yes 'flood one ${'x'.repeat(80)}'`, files: small });
  await box.service('flood2', { run: `exec yes 'flood two ${'y'.repeat(80)}' >&2`, files: small });
  await box.service('ticker', {
    run: `date +%s%N >> ${sq(stamps)}\necho started\nsleep ${RUN_MS / 1000}\nexit 3`,
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
  while (Date.now() - from < WATCH_MS) {
    const asked = Date.now();
    const all = await statusOf(socket);
    maxStatusMs = Math.max(maxStatusMs, Date.now() - asked);
    assert.equal(all.length, count);
    maxRss = Math.max(maxRss, vmRssMb(pid));
    await sleep(250);
  }
  assert.ok(maxStatusMs <= STATUS_BOUND_MS, `a status request took ${maxStatusMs} ms`);
  assert.ok(maxRss <= RSS_BOUND_MB, `warden grew to ${maxRss.toFixed(0)} MB`);

  const starts = startTimes(stamps).filter((s) => s >= from);
  const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
  const expected = Math.floor(WATCH_MS / (RUN_MS + SLACK_MS));
  assert.ok(starts.length >= expected, `the ticker started only ${starts.length} times in ${WATCH_MS} ms (expected ≥ ${expected})`);
  for (const gap of gaps) assert.ok(gap <= RUN_MS + SLACK_MS, `a restart came ${gap - RUN_MS} ms late: gaps ${gaps.join(', ')} ms`);
  assert.equal(warden.exited, false, `warden exited: ${warden.tail()}`);
  t.diagnostic(`${starts.length} starts, gaps ${Math.min(...gaps)}–${Math.max(...gaps)} ms; status ≤ ${maxStatusMs} ms; RSS ≤ ${maxRss.toFixed(0)} MB`);
  return { box, gaps };
}

test('a service restarts on time while two others flood a stdout read at full speed', { timeout: 60_000 }, async (t) => {
  const { box } = await floodWhileRestarting(t, readAtFullSpeed(1));
  // The floods really flooded: both rotated, stdout and stderr alike.
  for (const name of ['flood1', 'flood2']) {
    const archives = (await readdir(box.path('log', name))).filter((f) => f.startsWith('@'));
    assert.ok(archives.length >= 1, `${name} rotated (files: ${archives.join(', ')})`);
  }
});

test('a service restarts on time while two others flood a stdout nobody reads', { timeout: 60_000 }, async (t) => {
  await floodWhileRestarting(t, neverRead(1));
});

test('…and so it does with a CMD sharing that stdout (whose spawn makes the shared pipe blocking)', { timeout: 60_000 }, async (t) => {
  await floodWhileRestarting(t, neverRead(1), {}, ['sleep', '100000']);
});

test("a service restarts on time while warden's own stderr is never read", { timeout: 60_000 }, async (t) => {
  // A service dying 100 times a second makes warden log far more than a pipe holds.
  const crasher = { run: 'exit 1', files: { 'restart-delay': '10 10' } };
  const { box } = await floodWhileRestarting(t, neverRead(2), { crasher });
  const all = await statusOf(box.path('control.sock'));
  assert.ok(all.find((s) => s.name === 'crasher')!.restarts > 100, 'the crasher crashed (and was logged) over and over');
});
