/**
 * warden's s6-notifyoncheck shim on its own: a pipe stands for the notification fd, a temp dir
 * for the service dir. It must write one newline there once the check passes (not before),
 * give up after its tries, exec into the program without the fd, and refuse bad usage as s6's does;
 * and hand over to s6's own only in a dir a supervisor holds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './harness.js';
import { S6_MISSING, WAIT_MS } from './s6-tools.js';

const SHIM = join(REPO_ROOT, 'shims', 's6-notifyoncheck');

interface Run {
  /** What arrived on the notification fd so far. */
  readonly notified: () => string;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

/** A service dir with `data/check` passing once `gate` exists in it. */
async function serviceDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-noc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'check'), '#!/bin/sh\ntest -e gate\n');
  await chmod(join(dir, 'data', 'check'), 0o755);
  await writeFile(join(dir, 'notification-fd'), '3\n');
  return dir;
}

/** Runs the shim in `dir` with fd 3 a pipe (unless `noFd`), with `path` as PATH. */
function run(dir: string, args: readonly string[], noFd = false, path = process.env.PATH): Run {
  const child = spawn('sh', [SHIM, ...args], { cwd: dir, env: { ...process.env, PATH: path }, stdio: noFd ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe'] });
  let notified = '';
  let stdout = '';
  child.stdio[3]?.on('data', (c: Buffer) => (notified += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { notified: () => notified, stdout: () => stdout, exited };
}

test('s6-notifyoncheck writes one newline once data/check passes, and execs into the program without the fd', { timeout: 20_000 }, async (t) => {
  const dir = await serviceDir(t);
  const r = run(dir, ['-w', '100', '-n', '0', 'sh', '-c', 'if [ -e /proc/self/fd/3 ]; then echo fd-open; else echo fd-closed; fi; sleep 2']);
  await sleep(600);
  assert.equal(r.notified(), '', 'not ready before the check passes');
  await writeFile(join(dir, 'gate'), '');
  await sleep(600);
  assert.equal(r.notified(), '\n');
  assert.equal(r.stdout(), 'fd-closed\n');
  assert.equal(await r.exited, 0);
});

test('s6-notifyoncheck -c runs the check through execlineb -Pc, -3 names the fd', { timeout: 20_000 }, async (t) => {
  const dir = await serviceDir(t);
  await rm(join(dir, 'notification-fd'));
  await writeFile(join(dir, 'gate'), '');
  const r = run(dir, ['-3', '3', '-c', 'test -e gate', 'sleep', '1']);
  await r.exited;
  assert.equal(r.notified(), '\n');
});

test('s6-notifyoncheck gives up after -n tries: a check that passes later is not run', { timeout: 20_000 }, async (t) => {
  const dir = await serviceDir(t);
  const r = run(dir, ['-n', '2', '-w', '50', 'sleep', '2']);
  await sleep(700);
  await writeFile(join(dir, 'gate'), '');
  assert.equal(await r.exited, 0);
  assert.equal(r.notified(), '');
});

test('s6-notifyoncheck: usage errors exit 100, a notification fd that is not open 111', { timeout: 20_000 }, async (t) => {
  const dir = await serviceDir(t);
  assert.equal(await run(dir, []).exited, 100, 'no program');
  assert.equal(await run(dir, ['-n', 'many', 'true']).exited, 100, 'not a number');
  assert.equal(await run(dir, ['true'], true).exited, 111, 'fd 3 not open');
});

test('s6-notifyoncheck reads a notification-fd holding "3" with no newline, as s6 does', { timeout: 60_000 }, async (t) => {
  const dir = await serviceDir(t);
  await writeFile(join(dir, 'notification-fd'), '3');
  await writeFile(join(dir, 'gate'), '');
  const r = run(dir, ['-w', '100', '-n', '0', 'sh', '-c', 'sleep 5']);
  let exited: number | null | undefined;
  void r.exited.then((code) => (exited = code));
  // Before the fix the shim died at once ("unable to read ./notification-fd", 111).
  while (r.notified() === '' && exited === undefined) await sleep(50);
  assert.equal(r.notified(), '\n', `exited ${String(exited)} without notifying`);
  await r.exited;
});

test('s6-notifyoncheck run in a pipeline, not exec\'d: the check goes on while the service lives, after its program ended (as s6\'s, which stops at the service\'s death)', { timeout: 120_000 }, async (t) => {
  const dir = await serviceDir(t);
  // The service's run script (its process group's leader, as a supervisor starts it): the shim's
  // program (echo) ends at once, the script lives on, and gets ready once the check passes.
  const script = `sh ${SHIM} -w 100 -n 0 echo waiting | cat; while [ ! -e done ]; do sleep 0.05; done`;
  const child = spawn('sh', ['-c', script], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  // A failing test ends the script too (the dir may be gone by then).
  t.after(() => writeFile(join(dir, 'done'), '').catch(() => undefined));
  let notified = '';
  child.stdio[3]!.on('data', (c: Buffer) => (notified += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The program has ended before the check can pass.
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  while (!out.includes('waiting')) await sleep(20);
  await writeFile(join(dir, 'gate'), '');
  // Before the fix the poller saw its program gone and gave up: no newline ever came.
  for (let i = 0; notified === '' && i < 1200; i++) await sleep(50);
  assert.equal(notified, '\n');
  await writeFile(join(dir, 'done'), '');
  await exited;
});

/** data/check noting the program that ran it (its parent's executable) in `./parent`, then passing. */
async function notingParent(dir: string): Promise<void> {
  await writeFile(join(dir, 'data', 'check'), '#!/bin/sh\nreadlink /proc/$PPID/exe > ./parent\n');
}

test("s6-notifyoncheck: with s6's own on PATH, a dir no supervisor holds keeps the shim", { timeout: 60_000, skip: S6_MISSING }, async (t) => {
  const dir = await serviceDir(t);
  await notingParent(dir);
  await mkdir(join(dir, 'supervise'));
  await writeFile(join(dir, 'supervise', 'lock'), '');
  const r = run(dir, ['-w', '50', '-n', '0', 'sleep', '1'], false, `${join(REPO_ROOT, 'shims')}:/usr/bin:/bin`);
  assert.equal(await r.exited, 0);
  assert.equal(r.notified(), '\n');
  assert.equal(await readFile(join(dir, 'parent'), 'utf8'), `${await realpath('/bin/sh')}\n`);
});

test("s6-notifyoncheck hands over to s6's own in a dir s6-supervise holds", { timeout: 240_000, skip: S6_MISSING }, async (t) => {
  const dir = await serviceDir(t);
  await notingParent(dir);
  await writeFile(join(dir, 'run'), `#!/bin/sh\nPATH=${join(REPO_ROOT, 'shims')}:/usr/bin:/bin\nexport PATH\nexec s6-notifyoncheck -w 50 -n 0 sleep 1000\n`);
  await chmod(join(dir, 'run'), 0o755);
  const supervisor = spawn('s6-supervise', [dir], { stdio: 'ignore' });
  t.after(() => void supervisor.kill());
  const waited = await new Promise<number | null>((resolve) => spawn('s6-svwait', [`-t${WAIT_MS}`, '-U', dir], { stdio: 'ignore' }).once('exit', resolve));
  assert.equal(waited, 0, 'ready');
  assert.equal(await readFile(join(dir, 'parent'), 'utf8'), '/usr/bin/s6-notifyoncheck\n');
  await new Promise<void>((resolve) => spawn('s6-svc', ['-wD', `-T${WAIT_MS}`, '-d', dir], { stdio: 'ignore' }).once('exit', () => resolve()));
});
