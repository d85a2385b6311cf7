/**
 * The release tarball goes into any root, as s6-overlay's does: a root of busybox-static alone
 * (no C library, no Node), and a root whose only C library is musl (what an Alpine image is),
 * with a service built by musl-gcc. Each gets the tarball unpacked at /, a cont-init.d script
 * (`#!/command/with-contenv sh`) and two services.d services, and boots /init as the real PID 1
 * of a new PID namespace, chrooted there. Then, from inside the root: `warden status` answers,
 * both services are up, a SIGKILLed service comes back, an orphan is reaped (koffi's waitpid,
 * from the libraries the release ships), `/command/s6-rc` takes a service down and up, `warden
 * --version` names the package's version, and SIGTERM ends the container with 0.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { ServiceStatus } from '../../src/adapters/control-protocol.js';
import { eventually, REPO_ROOT, Sandbox } from '../integration/harness.js';
import { addMusl, busyboxRoot, foreignRuntimes, needs } from './release.js';

const run = promisify(execFile);
const ORPHAN_MAKER = join(REPO_ROOT, 'test/fixtures/roots/orphan-maker.c');
const PATH = '/command:/usr/bin:/bin';

test('busybox-static root: /init from the release boots, supervises, reaps and stops with 0', { timeout: 180_000 }, async (t) => {
  needs('release', 'busybox');
  const { box, root } = await makeRoot(t);
  // The orphan: the subshell exits at once, its sleep is re-parented to PID 1.
  await script(join(root, 'etc/services.d/beta/run'), '#!/bin/sh\n(sleep 1 & echo $! > /run/orphan.pid)\nexec sleep 100000\n');
  await bootAndCheck(box, root);
});

test('musl root: /init from the release boots, supervises a musl-gcc service, reaps and stops with 0', { timeout: 180_000 }, async (t) => {
  needs('release', 'busybox', 'musl');
  const { box, root } = await makeRoot(t);
  await mkdir(join(root, 'etc/services.d/beta'), { recursive: true });
  // The service's run file is the musl program itself.
  await addMusl(root, ORPHAN_MAKER, join(root, 'etc/services.d/beta/run'));
  const { stdout } = await run('file', ['-L', join(root, 'etc/services.d/beta/run')]).catch(() => ({ stdout: '' }));
  if (stdout !== '') assert.match(stdout, /ld-musl/, 'the service is linked against musl');
  await bootAndCheck(box, root);
});

/** A sandbox with a busybox root in it: the release, a cont-init.d script and service alpha. */
async function makeRoot(t: TestContext): Promise<{ box: Sandbox; root: string }> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const root = box.path('root');
  await busyboxRoot(root);
  await script(join(root, 'etc/cont-init.d/10-greet'), '#!/command/with-contenv sh\necho "greeting=$GREETING" > /run/greeting\n');
  await script(join(root, 'etc/services.d/alpha/run'), '#!/bin/sh\nexec sleep 100000\n');
  return { box, root };
}

async function bootAndCheck(box: Sandbox, root: string): Promise<void> {
  assert.deepEqual(await foreignRuntimes(root), [], 'no glibc and no Node in the root (but in /opt/warden)');
  const init = box.boot({
    // chroot and /init, with an environment as a container runtime gives it.
    command: ['/usr/bin/env', '-i', `PATH=${PATH}`, 'GREETING=hello', 'WARDEN_LOG_LEVEL=debug', '/usr/sbin/chroot', root, '/init'],
    initArgv0: '/init',
    prelude: `mount -t proc proc ${root}/proc\nmount --rbind /dev ${root}/dev`,
  });
  const pid = await init.hostPid();
  const inside = (...argv: string[]) => run('nsenter', ['-t', String(pid), '-m', '-p', '-r', '-w', ...argv], { env: { PATH } });
  const status = async (): Promise<ServiceStatus[]> => JSON.parse((await inside('/usr/bin/warden', 'status', '--json')).stdout) as ServiceStatus[];
  const upPids = async (): Promise<Record<string, number> | null> => {
    if (init.exited) throw new Error(`warden exited; ${init.tail()}`);
    const all = await status().catch(() => []);
    const up = all.filter((s) => s.state === 'up' && s.pid !== null);
    return up.length === 2 ? Object.fromEntries(up.map((s) => [s.name, s.pid!])) : null;
  };

  const first = await eventually('alpha and beta up, seen by `warden status` inside the root', upPids, 60_000, 200);
  assert.deepEqual(Object.keys(first).sort(), ['alpha', 'beta']);
  assert.equal(await readFile(join(root, 'run/greeting'), 'utf8'), 'greeting=hello\n', 'cont-init.d ran under with-contenv with the container env');

  const orphan = Number((await eventually('the orphan pid', () => readFile(join(root, 'run/orphan.pid'), 'utf8').catch(() => null), 30_000)).trim());
  await init.waitForEvent((e) => e.event === 'reaped' && e.pid === orphan, 60_000, `the orphan ${orphan} reaped`);
  await assert.rejects(inside('/bin/test', '-e', `/proc/${orphan}`), 'no zombie of the orphan is left');

  await inside('/bin/kill', '-KILL', String(first.alpha));
  const again = await eventually('alpha up again with a new pid', async () => {
    const pids = await upPids();
    return pids !== null && pids.alpha !== first.alpha ? pids : null;
  }, 60_000, 200);
  assert.equal(again.beta, first.beta, 'beta was left alone');

  // s6-rc: a Node script that the executable runs, in a root without Node.
  const s6rc = async (...argv: string[]): Promise<string[]> => (await inside('/command/s6-rc', ...argv)).stdout.split('\n').filter(Boolean);
  assert.ok((await s6rc('-a', 'list')).includes('alpha'), 's6-rc -a list: alpha is up');
  await s6rc('-d', 'change', 'alpha');
  assert.equal((await status()).find((s) => s.name === 'alpha')?.state, 'down', 's6-rc -d change alpha took it down');
  assert.ok(!(await s6rc('-a', 'list')).includes('alpha'), 's6-rc -a list: alpha is no longer up');
  await s6rc('-u', 'change', 'alpha');
  assert.equal((await status()).find((s) => s.name === 'alpha')?.state, 'up', 's6-rc -u change alpha brought it up again');

  const version = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal((await inside('/usr/bin/warden', '--version')).stdout.trim(), version.version, 'warden --version: the package version');

  await init.signal('SIGTERM');
  assert.deepEqual(await init.waitForExit(60_000), { code: 0, signal: null }, init.tail());
}

async function script(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  await chmod(path, 0o755);
}
