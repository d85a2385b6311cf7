/**
 * `warden check` as a person runs it, and `warden boot` on a dir that is not there: a dir that
 * does not exist is said to be missing (check: a problem, exit 1; boot: a warning, and the
 * container starts the rest), and a setting file one letter off is a problem with "did you mean".
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, show } from './control-helpers.js';
import { REPO_ROOT, Sandbox } from './harness.js';

test('warden check on a dir that does not exist says so and exits 1', async () => {
  const r = await cli('/nonexistent.sock', ['check', '/nonexistent-warden-dir']);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^\/nonexistent-warden-dir: does not exist$/m, show(r));
});

test('warden check reports a near-miss setting name with "did you mean", exit 1; data/ and README stay silent', async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await box.service('web', { run: 'exec sleep 1', files: { 'notifcation-fd': '3\n', 'README': 'notes\n', 'data/conf': 'x\n' } });
  await box.service('db', { run: 'exec sleep 1', files: { 'timeout-kil': '100\n' } });
  const r = await cli('/nonexistent.sock', ['check', box.servicesDir]);
  assert.equal(r.code, 1, show(r));
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `${join(box.servicesDir, 'db', 'timeout-kil')}: not a setting file warden or s6 reads: did you mean timeout-kill?`,
    `${join(box.servicesDir, 'web', 'notifcation-fd')}: not a setting file warden or s6 reads: did you mean notification-fd?`,
  ]);
});

test('warden check --root reads an s6-overlay tree as boot does: s6-rc.d, services.d, user2 and all', async () => {
  const r = await cli('/nonexistent.sock', ['check', '--root', join(REPO_ROOT, 'test/fixtures/overlay/app')]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^6 services ok, 0 problems/, show(r));
});

test('warden check takes an s6-rc source dir given plainly, recognised by its type files', async () => {
  const dir = join(REPO_ROOT, 'test/fixtures/overlay/mariadb/etc/s6-overlay/s6-rc.d');
  const r = await cli('/nonexistent.sock', ['check', dir]);
  assert.match(r.stdout, /^3 services ok, /, show(r));
  // Its runs start `#!/usr/bin/with-contenv`: checked against this machine's root, the only
  // problems are that program where the machine lacks it (s6-overlay's or warden's release has it).
  const expected = existsSync('/usr/bin/with-contenv')
    ? []
    : ['svc-backup', 'svc-mariadb'].map((unit) => `${join(dir, unit, 'run')}:1: names /usr/bin/with-contenv, which this image does not have`);
  assert.deepEqual(r.stderr.split('\n').filter(Boolean).map((l) => l.replace(/: install .*/, '')), expected, show(r));
  assert.equal(r.code, expected.length === 0 ? 0 : 1, show(r));
});

test('boot --services on a dir that does not exist warns at boot and starts the rest', { timeout: 120_000 }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await box.service('web', { run: 'exec sleep 1000' });
  const missing = box.path('missing.d');
  await mkdir(box.contInitDir, { recursive: true });
  const warden = box.boot({ argv: ['boot', '--services', missing, '--services', box.servicesDir, '--cont-init', box.contInitDir, '--cont-finish', box.contFinishDir] });
  const warned = await warden.waitForEvent((e) => e.event === 'dir-missing', 100_000, 'dir-missing');
  assert.equal(warned.dir, missing);
  await warden.waitForEvent((e) => e.event === 'started' && e.service === 'web', 100_000, 'web started');
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(100_000)).code, 0, warden.tail());
});
