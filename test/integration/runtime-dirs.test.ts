/**
 * Where warden writes its runtime files, tried where the defaults cannot work: PID 1 as a
 * non-root user (`USER app`, runAsNonRoot), a read-only root with a writable /run tmpfs
 * (`docker run --read-only --tmpfs /run`), and two sub-inits sharing a host's /run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LONG_RUN, statusOf } from './control-helpers.js';
import { eventually, Sandbox, sq, WARDEN_MAIN, type WardenEvent } from './harness.js';

const NOBODY = { name: 'nobody', group: 'nogroup', uid: 65534 } as const;

/** The environment of a process run as a user would run it: no warden variables at all. */
function plainEnv(extra: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('WARDEN_') && key !== 'XDG_RUNTIME_DIR') env[key] = value;
  }
  return { ...env, ...extra };
}

function run(file: string, args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** No log line carries a stack trace: what cannot work is said in one line. */
function assertNoStacks(events: readonly WardenEvent[]): void {
  const withStack = events.filter((e) => JSON.stringify(e).includes('\\n    at '));
  assert.deepEqual(withStack, [], 'log lines with a stack trace');
}

test('PID 1 as a non-root user: a private runtime dir, found by the CLI of that user without any variable; warden logs reads the logs that fell back there', async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await chmod(box.dir, 0o755);
  const tmp = box.path('tmp');
  await mkdir(tmp);
  await chmod(tmp, 0o1777);
  await box.service('app', { run: `echo started\n${LONG_RUN}` });
  // Nothing set: warden must find its own way, as in an image with `USER app`.
  const env = { WARDEN_RUN_DIR: '', WARDEN_SOCKET: '', WARDEN_LOG_DIR: '', WARDEN_S6_RUNTIME: '', XDG_RUNTIME_DIR: '', TMPDIR: tmp };
  const warden = box.boot({ user: NOBODY, env });
  const fallback = await warden.waitForEvent((e) => e.event === 'run-dir-fallback', 30_000, 'the runtime dir fallback');
  const runDir = join(tmp, `warden-${NOBODY.uid}`);
  assert.equal(fallback.to, runDir);
  assert.equal(fallback.reason, 'EACCES');

  const cliEnv = plainEnv({ TMPDIR: tmp });
  const asNobody = ['setpriv', `--reuid=${NOBODY.name}`, `--regid=${NOBODY.group}`, '--clear-groups', process.execPath, WARDEN_MAIN];
  const status = await eventually(
    'warden status as nobody, with no variable set, to show app up',
    async () => {
      const r = await run(asNobody[0]!, [...asNobody.slice(1), 'status', '--json'], cliEnv);
      return r.code === 0 && r.stdout.includes('"up"') ? r : null;
    },
    30_000,
    200,
  );
  assert.equal((JSON.parse(status.stdout) as { name: string }[])[0]?.name, 'app');

  const runStat = await stat(runDir);
  assert.equal(runStat.mode & 0o777, 0o700);
  assert.equal(runStat.uid, NOBODY.uid);
  const envDir = join(runDir, 'container_environment');
  const envStat = await stat(envDir);
  assert.equal(envStat.mode & 0o777, 0o700, 'the container environment dir is 0700');
  assert.equal(envStat.uid, NOBODY.uid);
  for (const name of (await readdir(envDir)).slice(0, 20)) {
    const file = await stat(join(envDir, name));
    assert.equal(file.mode & 0o777, 0o600, `${name} is 0600`);
    assert.equal(file.uid, NOBODY.uid);
  }
  // The service's log fell back too (the default log dir is root's), and says so once.
  await warden.waitForEvent((e) => e.event === 'log-dir-fallback', 10_000, 'the log dir fallback');
  await eventually('app\'s line in its log file', () => box.read(join(runDir, 'log', 'app', 'current')).then((text) => text?.includes('started')), 15_000);
  assert.equal(warden.find((e) => e.event === 'log-failed').length, 0, warden.tail());
  assertNoStacks(warden.events);
  // warden logs, as the same user with no variable set, reads them there.
  const logs = await run(asNobody[0]!, [...asNobody.slice(1), 'logs', 'app'], cliEnv);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^\S+ app \| started$/m);

  const halt = await run(asNobody[0]!, [...asNobody.slice(1), 'halt', '--code', '7'], cliEnv);
  assert.equal(halt.code, 0, halt.stderr);
  assert.deepEqual(await warden.waitForExit(30_000), { code: 7, signal: null });
});

test('a read-only root with a writable /run tmpfs boots with every feature, and says once where service logs went', async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await box.service('app', { run: `echo started\necho >&3\n${LONG_RUN}`, files: { 'notification-fd': '3\n' } });
  const warden = box.boot({
    // Only this namespace's view of / is read-only: a bind remount, not the filesystem's.
    prelude: 'mount -o remount,bind,ro /\nmount -t tmpfs -o mode=755 tmpfs /run',
    env: { WARDEN_RUN_DIR: '', WARDEN_SOCKET: '', WARDEN_LOG_DIR: '', WARDEN_S6_RUNTIME: '1' },
  });
  const root = `/proc/${await warden.hostPid()}/root`;
  const socket = `${root}/run/warden/control.sock`;
  await eventually(
    'app up and ready over the control socket in /run',
    async () => {
      if (warden.exited) throw new Error(warden.tail());
      const app = (await statusOf(socket).catch(() => []))[0];
      return app?.state === 'up' && app.ready;
    },
    30_000,
    100,
  );
  const fallbacks = warden.find((e) => e.event === 'log-dir-fallback');
  assert.equal(fallbacks.length, 1);
  assert.equal(fallbacks[0]!.to, '/run/warden/log');
  assert.equal(fallbacks[0]!.reason, 'EROFS');
  await eventually('app\'s line in /run/warden/log', async () => (await box.read(`${root}/run/warden/log/app/current`))?.includes('started'), 15_000);
  assert.equal(warden.find((e) => e.event === 'log-failed' || e.event === 'runtime-file-failed' || e.event === 'control-unavailable').length, 0, warden.tail());
  // s6-overlay's runtime files, where its scripts look for them.
  assert.equal((await stat(`${root}/run/s6/container_environment`)).mode & 0o777, 0o700);
  assert.ok((await stat(`${root}/run/s6/basedir/bin/halt`)).mode & 0o100);
  assertNoStacks(warden.events);
  await warden.signal('SIGTERM');
  assert.deepEqual(await warden.waitForExit(30_000), { code: 0, signal: null });
});

test('two sub-inits sharing /run: each has its own runtime dir, neither writes s6 paths nor reads the other exit code', async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const boot = (code: number, afterS: number): string =>
    `${sq(process.execPath)} ${sq(WARDEN_MAIN)} boot --services ${sq(box.servicesDir)} --cont-init ${sq(box.contInitDir)} --cont-finish ${sq(box.contFinishDir)} -- sh -c 'sleep ${afterS}; exit ${code}'`;
  // Not PID 1 (no PID namespace); a private mount namespace only so that this /run is the test's.
  const script = [
    'mount -t tmpfs -o mode=755 tmpfs /run',
    `${boot(3, 1)} 2>${sq(box.path('a.log'))} & a=$!`,
    `${boot(0, 3)} 2>${sq(box.path('b.log'))} & b=$!`,
    'wait $a; echo "a=$?"',
    'wait $b; echo "b=$?"',
    'echo "run: $(ls -A /run | tr "\\n" " ")"',
    'echo "warden: $(ls -A /run/warden | tr "\\n" " ")"',
  ].join('\n');
  const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], plainEnv({ WARDEN_LOG_DIR: box.path('log'), WARDEN_KILL_GRACETIME: '1000' }), 60_000);
  const logs = `${r.stderr}\na: ${(await box.read('a.log'))?.slice(-2000)}\nb: ${(await box.read('b.log'))?.slice(-2000)}`;
  assert.match(r.stdout, /^a=3$/m, logs);
  assert.match(r.stdout, /^b=0$/m, logs);
  // Nothing of s6-overlay's under the shared /run, and each instance removed its own dir.
  assert.match(r.stdout, /^run: warden $/m, r.stdout);
  assert.match(r.stdout, /^warden: $/m, r.stdout);
  for (const name of ['a.log', 'b.log']) {
    const text = (await box.read(name)) ?? '';
    assert.doesNotMatch(text, /control-unavailable/, `${name}: ${text.slice(-1000)}`);
  }
});
