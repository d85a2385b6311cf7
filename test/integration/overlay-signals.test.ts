/**
 * Two S6_* variables about the container manager, with warden as PID 1 on
 * test/fixtures/stage2/etc (svc-slow records slow-start when it runs):
 * S6_WAIT_FOR_CLOSING_FD (boot waits for end of file on an fd the manager holds) and
 * S6_CMD_RECEIVE_SIGNALS (while CMD runs, SIGTERM goes to CMD and the container stops when CMD exits).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, sq } from './harness.js';
import { marks, overlayBox } from './overlay-box.js';

const ETC = join(REPO_ROOT, 'test/fixtures/stage2/etc');
const PATIENT = { WARDEN_SERVICES_GRACETIME: '60000', WARDEN_KILL_FINISH_MAXTIME: '60000' } as const;

test('S6_WAIT_FOR_CLOSING_FD=3: nothing runs until the fd reads end of file, then boot goes on', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'stage2', ETC);
  const fifo = box.path('manager.fifo');
  execFileSync('mkfifo', [fifo]);
  // The manager's write end, held by a process the test ends to close it.
  const manager = spawn('/bin/sh', ['-c', `exec sleep 1000 > ${sq(fifo)}`], { stdio: 'ignore' });
  t.after(() => manager.kill('SIGKILL'));
  const warden = boot({ env: { ...PATIENT, S6_WAIT_FOR_CLOSING_FD: '3' }, prelude: `exec 3< ${sq(fifo)}` });
  await warden.waitForEvent((e) => e.event === 'waiting-for-closing-fd', 100_000, 'waiting-for-closing-fd');
  // A second of the fd held open: no unit may run meanwhile.
  await sleep(1000);
  assert.deepEqual(await marks(box), []);
  assert.equal(warden.find((e) => e.event === 'services-changed').length, 0, warden.tail());
  manager.kill('SIGTERM');
  await warden.waitForEvent((e) => e.event === 'closing-fd-closed', 100_000, 'closing-fd-closed');
  await warden.waitForEvent((e) => e.event === 'ready' && e.service === 'svc-slow', 100_000, 'svc-slow ready');
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(100_000)).code, 0, warden.tail());
});

test('S6_CMD_RECEIVE_SIGNALS=1: SIGTERM to PID 1 goes to CMD; the container stops when CMD exits, with its code', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'stage2', ETC);
  const record = '/etc/s6-overlay/scripts/record';
  const cmd = ['/bin/sh', '-c', `trap '${record} cmd-term; exit 9' TERM; ${record} cmd-start; while :; do sleep 0.1; done`];
  const warden = boot({ env: { ...PATIENT, S6_CMD_RECEIVE_SIGNALS: '1' }, cmd });
  while (!(await marks(box)).some((m) => m.what === 'cmd-start')) {
    assert.equal(warden.exited, false, warden.tail());
    await sleep(50);
  }
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(100_000)).code, 9, warden.tail());
  const diverted = warden.find((e) => e.event === 'signal' && e.signal === 'SIGTERM');
  assert.equal(diverted.length, 1, warden.tail());
  assert.equal(diverted[0]!.forwardedTo, 'cmd');
  // The shutdown came from CMD's exit, not from the signal.
  assert.deepEqual(warden.find((e) => e.event === 'shutdown').map((e) => e.reason), ['command-exited'], warden.tail());
  assert.equal((await marks(box)).filter((m) => m.what === 'cmd-term').length, 1);
});
