import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeWaitStatus, setChildSubreaper, type WaitStatus } from '../../src/adapters/native.js';
import { descendants, directChildren, zombies } from '../../src/adapters/process-tree.js';
import { Reaper } from '../../src/adapters/reaper.js';

/** Runs a shell command via child_process, tracked in `managed` until its 'exit' fires. */
function spawnManaged(managed: Set<number>, script: string): Promise<number | null> {
  const child = spawn('sh', ['-c', script], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error(`could not spawn: ${script}`));
  managed.add(pid);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      managed.delete(pid);
      resolve(code);
    });
  });
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) await sleep(10);
}

test('decodeWaitStatus reads exit codes and terminating signals like the libc macros', () => {
  assert.deepEqual(decodeWaitStatus(0), { kind: 'exited', code: 0 });
  assert.deepEqual(decodeWaitStatus(3 << 8), { kind: 'exited', code: 3 });
  assert.deepEqual(decodeWaitStatus(255 << 8), { kind: 'exited', code: 255 });
  assert.deepEqual(decodeWaitStatus(9), { kind: 'killed', signal: 9 });
  assert.deepEqual(decodeWaitStatus(0x80 | 11), { kind: 'killed', signal: 11 }); // core dumped
  assert.throws(() => decodeWaitStatus((19 << 8) | 0x7f), /stopped/);
});

test('descendants parses stat lines whose comm holds spaces and parentheses', async () => {
  const weird = ') x (y) z';
  const managed = new Set<number>();
  const exited = spawnManaged(managed, `printf '%s' '${weird}' > /proc/$$/comm; sleep 30 & wait`);
  const [pid] = managed;
  assert.ok(pid !== undefined);
  try {
    await until(() => descendants(pid).length > 0, 5000);
    const tree = descendants(process.pid);
    assert.ok(tree.includes(pid), 'the shell is a descendant');
    const [grandchild] = descendants(pid);
    assert.ok(grandchild !== undefined && tree.includes(grandchild), 'its sleep is a descendant');
  } finally {
    for (const p of [...descendants(pid), pid]) process.kill(p, 'SIGKILL');
    // Wait for 'exit': a child_process child still running when a Reaper starts would be
    // unmanaged to it, and its status stolen from libuv (this test hung that way once).
    await exited;
  }
});

test('no child_process exit is lost while the reaper reaps orphans alongside', { timeout: 60_000 }, async (t) => {
  setChildSubreaper();
  const managed = new Set<number>();
  const orphans: WaitStatus[] = [];
  const errors: unknown[] = [];
  const reaper = new Reaper({
    isManaged: (pid) => managed.has(pid),
    onOrphanReaped: (_pid, status) => orphans.push(status),
    onError: (error) => errors.push(error),
  });
  reaper.start();
  try {
    const exits = 200;
    const helpers = 200;
    const orphansPerHelper = 5;
    const started = performance.now();
    // Interleave the children whose exit codes we check with shells that make orphans, so
    // the reaper is busy exactly while libuv reaps.
    const expected: Promise<number | null>[] = [];
    const helperRuns: Promise<number | null>[] = [];
    for (let i = 0; i < exits; i++) {
      expected.push(spawnManaged(managed, `exit ${i % 256}`));
      helperRuns.push(spawnManaged(managed, '(sleep 0.01 &) ; '.repeat(orphansPerHelper) + 'exit 0'));
    }
    const timeout = sleep(30_000, undefined, { ref: false }).then(() => 'timeout' as const);
    const codes = await Promise.race([Promise.all(expected), timeout]);
    assert.notEqual(codes, 'timeout', `exits lost: ${managed.size} managed pids never saw 'exit'`);
    assert.deepEqual(
      codes,
      expected.map((_, i) => i % 256),
    );
    await Promise.all(helperRuns);
    await until(() => orphans.length >= helpers * orphansPerHelper, 10_000);
    const ms = Math.round(performance.now() - started);
    assert.equal(orphans.length, helpers * orphansPerHelper, 'every orphan reaped by SIGCHLD');
    assert.ok(orphans.every((s) => s.kind === 'exited' && s.code === 0));
    assert.deepEqual(zombies(directChildren()), [], 'no zombie children left');
    assert.deepEqual(errors, []);
    t.diagnostic(`200 exits, ${orphans.length} orphans reaped in ${ms} ms`);
  } finally {
    reaper.stop();
  }
});

// The reaper here claims every child (isManaged: false), so while it listens it would take
// child_process's exits and reap orphans by itself: after stop() it must do neither.
test('after stop() the reaper reaps nothing by itself: child_process keeps its exits, an orphan waits for drain()', { timeout: 30_000 }, async () => {
  setChildSubreaper();
  const reaped: number[] = [];
  const reaper = new Reaper({ isManaged: () => false, onOrphanReaped: (pid) => reaped.push(pid) });
  const before = zombies(directChildren());
  reaper.start();
  reaper.stop();
  const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => spawnManaged(new Set(), `exit ${i}`)));
  assert.deepEqual(codes, Array.from({ length: 20 }, (_, i) => i), 'every exit reached child_process');
  // The shell's background sleep is re-parented to us (subreaper) and dies: a zombie nobody reaps.
  assert.equal(await spawnManaged(new Set(), 'sleep 0.01 & exit 0'), 0);
  let orphan: number | undefined;
  while (orphan === undefined) {
    orphan = zombies(directChildren()).find((pid) => !before.includes(pid));
    await sleep(10);
  }
  assert.deepEqual(reaped, [], 'nothing reaped after stop()');
  assert.equal(reaper.drain(), 1);
  assert.deepEqual(reaped, [orphan]);
});

// The fixture waits only while reaping progresses, so it ends by itself; the outer bound is for a
// machine that stops altogether.
test('as PID 1, 10 000 orphans are all reaped and no zombie is left', { timeout: 900_000 }, async (t) => {
  const fixture = fileURLToPath(new URL('../fixtures/reaper/orphans-as-pid1.js', import.meta.url));
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, fixture, '10000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  assert.equal(code, 0, `fixture exited ${code}: ${out}`);
  const result = JSON.parse(out) as {
    reaped: number;
    zombies: number;
    zombiesBeforeDrain: number;
    unmanagedLeft: number;
    ms: number;
    errors: string[];
  };
  assert.equal(result.zombies, 0);
  assert.ok(result.reaped >= 10_000, `reaped only ${result.reaped}`);
  assert.equal(result.unmanagedLeft, 0);
  assert.deepEqual(result.errors, []);
  t.diagnostic(`PID 1: ${result.reaped} orphans in ${result.ms} ms, ${result.zombiesBeforeDrain} left for drain()`);
});
