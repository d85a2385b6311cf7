/**
 * The `user` setting with warden as PID 1: run, finish and check all run as that user, and the
 * service's output is still captured.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { eventually, Sandbox, sq } from './harness.js';

test('a service with a user file runs, finishes and is checked as that user', { timeout: 60_000 }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  // nobody must reach the scripts, and write its marks.
  await chmod(box.dir, 0o755);
  const out = box.path('out');
  await mkdir(out);
  await chmod(out, 0o777);
  const ids = (what: string): string => `echo "$(id -u):$(id -g)" > ${sq(`${out}/${what}`)}`;
  await box.service('web', {
    run: `${ids('run')}\necho "running as $(id -un)"\nsleep 1\nexit 3`,
    finish: ids('finish'),
    scripts: { check: `${ids('check')}\nexit 0` },
    files: { user: 'nobody:nogroup', 'check-interval': '200', 'restart-delay': '5000 5000' },
  });
  const warden = box.boot();
  await eventually('run, check and finish to write their ids', async () => (await box.read('out/finish')) !== null, 15_000, 100);
  const nobody = '65534:65534';
  assert.equal(await box.read('out/run'), `${nobody}\n`);
  assert.equal(await box.read('out/check'), `${nobody}\n`);
  assert.equal(await box.read('out/finish'), `${nobody}\n`);
  // Its output is captured as any service's.
  await eventually('the log line', async () => ((await box.read('log/web/current')) ?? '').includes('running as nobody'), 5000, 100);
  assert.equal(warden.exited, false);
});
