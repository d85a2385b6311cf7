import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Launcher } from '../../../src/adapters/launcher.js';

const noExit = (): void => assert.fail('a program that never started cannot exit');

test('a spawn that Node fails by throwing (E2BIG) is a failed launch, not an exception', () => {
  const result = new Launcher().launch({ file: '/bin/true', env: { BIG: 'x'.repeat(200_000) }, detached: false, onExit: noExit });
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.error : '', /cannot run \/bin\/true: .*E2BIG/);
});

test('a spawn that Node fails by an error event (ENOENT) is a failed launch too', () => {
  const result = new Launcher().launch({ file: '/nonexistent/run', env: {}, detached: false, onExit: noExit });
  assert.equal(result.ok, false);
});

test('a started program is managed until its exit is reported', async () => {
  const launcher = new Launcher();
  let reported = false;
  const exited = new Promise<void>((resolve) => {
    const result = launcher.launch({
      file: '/bin/sh',
      args: ['-c', 'exit 3'],
      env: {},
      detached: false,
      onExit: (status) => {
        assert.deepEqual(status, { kind: 'exited', code: 3 });
        assert.equal(launcher.isManaged(pid), false);
        reported = true;
        resolve();
      },
    });
    assert.ok(result.ok);
    const pid = result.pid;
    assert.equal(launcher.isManaged(pid), true);
  });
  await exited;
  assert.equal(reported, true);
});
