/**
 * The edges of stopping, warden as PID 1: a oneshot `down` with s6-rc's default "no limit" that
 * never ends, a service that ignores its down signal when its dir changes, a change still
 * being applied when SIGTERM comes, and CMD waiting on a oneshot.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, Sandbox, sq } from './harness.js';

async function sandbox(t: TestContext): Promise<Sandbox> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  return box;
}

/** An s6-rc source dir: `user` bundles the given oneshots, each with its up and down lines. */
async function s6rc(box: Sandbox, oneshots: Readonly<Record<string, { up: string; down?: string }>>): Promise<string> {
  const dir = box.path('s6-rc.d');
  await mkdir(join(dir, 'user', 'contents.d'), { recursive: true });
  await writeFile(join(dir, 'user', 'type'), 'bundle\n');
  for (const [name, o] of Object.entries(oneshots)) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'type'), 'oneshot\n');
    await writeFile(join(dir, name, 'up'), `${o.up}\n`);
    if (o.down !== undefined) await writeFile(join(dir, name, 'down'), `${o.down}\n`);
    await writeFile(join(dir, 'user', 'contents.d', name), '');
  }
  return dir;
}

const argv = (box: Sandbox, rc: string, cmd: readonly string[] = []): string[] => [
  'boot',
  '--services',
  box.servicesDir,
  '--s6-rc',
  rc,
  ...(cmd.length > 0 ? ['--', ...cmd] : []),
];

test('a oneshot down that never ends (no timeout-down) is killed at the services grace time: shutdown ends', { timeout: 60_000 }, async (t) => {
  const box = await sandbox(t);
  const rc = await s6rc(box, { stuck: { up: 'true', down: 'sleep 100000' } });
  const warden = box.boot({ argv: argv(box, rc), env: { WARDEN_SERVICES_GRACETIME: '1500' } });
  await warden.waitForEvent((e) => e.event === 'oneshot-done' && e.service === 'stuck', 15_000, 'the oneshot up');
  await warden.signal('SIGTERM');
  const exit = await warden.waitForExit(20_000);
  assert.deepEqual(exit, { code: 0, signal: null }, warden.tail());
  const failed = warden.find((e) => e.event === 'oneshot-down-failed' && e.service === 'stuck');
  assert.equal(failed.length, 1, warden.tail());
  assert.match(String(failed[0]!.reason), /timed out after 1500 ms/);
});

test('CMD starts as soon as the last oneshot is done, not at the wait limit', { timeout: 60_000 }, async (t) => {
  const box = await sandbox(t);
  const rc = await s6rc(box, { slow: { up: 'sleep 1' } });
  const started = box.path('cmd-started');
  const warden = box.boot({
    argv: argv(box, rc, ['sh', '-c', `touch ${sq(started)}; exec sleep 100000`]),
    env: { WARDEN_CMD_WAIT_FOR_SERVICES_MAXTIME: '60000' },
  });
  await warden.waitForEvent((e) => e.event === 'oneshot-done' && e.service === 'slow', 15_000, 'the oneshot up');
  await eventually('CMD to start after the oneshot', async () => (await box.read(started)) !== null, 5000, 50);
  assert.equal(warden.find((e) => e.event === 'cmd-wait-timeout').length, 0);
});

test('a changed service whose old run ignores TERM (timeout-kill 0) is SIGKILLed past its budget, not left running', { timeout: 60_000 }, async (t) => {
  const box = await sandbox(t);
  // The sleep's length tells the runs apart in the process table.
  const run = (tag: string): string => `trap '' TERM\nexec sleep ${tag}`;
  await box.service('deaf', { run: run('100001'), files: { 'timeout-kill': '0' } });
  const warden = box.boot({ env: { WARDEN_SERVICES_GRACETIME: '1000' } });
  await warden.waitForEvent((e) => e.event === 'started' && e.service === 'deaf', 15_000, 'deaf to start');
  await warden.waitForEvent((e) => e.event === 'watching', 15_000, 'the watcher');
  await box.service('deaf', { run: run('100002'), files: { 'timeout-kill': '0' } });
  await warden.waitForEvent((e) => e.event === 'retire-kill' && e.service === 'deaf', 15_000, 'the retire kill');
  await warden.waitForEvents((e) => e.event === 'started' && e.service === 'deaf', 2, 15_000, 'deaf to start again');
  const cmdlines = async (): Promise<string[]> =>
    (await warden.processes()).map((p) => readCmdline(p.hostPid)).filter((c) => c.startsWith('sleep 10000'));
  await eventually('only the new run', async () => JSON.stringify(await cmdlines()) === '["sleep 100002"]', 5000, 100);
});

test('SIGTERM while a changed service is being stopped: it is not started again after the shutdown began', { timeout: 60_000 }, async (t) => {
  const box = await sandbox(t);
  // Slow to stop: TERM is trapped and the run exits 1.5 s later.
  const run = (tag: string): string => `trap 'sleep 1.5; exit 0' TERM\necho ${tag}\nwhile :; do sleep 0.1; done`;
  await box.service('slow', { run: run('one') });
  const warden = box.boot();
  await warden.waitForEvent((e) => e.event === 'started' && e.service === 'slow', 15_000, 'slow to start');
  await warden.waitForEvent((e) => e.event === 'watching', 15_000, 'the watcher');
  await box.service('slow', { run: run('two') });
  await warden.waitForEvent((e) => e.event === 'stopping' && e.service === 'slow', 15_000, 'the change to stop slow');
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(20_000)).code, 0, warden.tail());
  const shutdownAt = warden.events.findIndex((e) => e.event === 'shutdown');
  const lateStarts = warden.events.slice(shutdownAt).filter((e) => e.event === 'started');
  assert.deepEqual(lateStarts, [], `started after the shutdown began:\n${warden.tail()}`);
});

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}
