/**
 * S6_BEHAVIOUR_IF_STAGE2_FAILS as s6-overlay's rc.init has it, with warden as PID 1 on
 * test/fixtures/stage2/etc: `user` holds svc-slow (ready a second after it starts) and
 * svc-needs-bad, which needs the oneshot init-bad (failing under FAIL_BAD). s6-overlay runs
 * `s6-rc -u change top` to its end, then decides: 0 go on, 1 go on with a warning, 2 halt with
 * s6-rc's code (1: a unit failed, 2: timed out) through the exitcode file; a failing
 * S6_STAGE2_HOOK halts under 2 with the hook's own code.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './harness.js';
import { at, before, marks, overlayBox } from './overlay-box.js';

const ETC = join(REPO_ROOT, 'test/fixtures/stage2/etc');
const PATIENT = { WARDEN_SERVICES_GRACETIME: '60000', WARDEN_KILL_FINISH_MAXTIME: '60000' } as const;
const CMD = ['/bin/sh', '-c', '/etc/s6-overlay/scripts/record cmd; exit 7'];

test('2: a failed oneshot stops the container once the bring-up as a whole is over, with s6-rc\'s 1 in the exitcode file', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'stage2', ETC);
  const warden = boot({ env: { ...PATIENT, FAIL_BAD: '1', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, cmd: CMD });
  const exit = await warden.waitForExit(200_000);
  assert.equal(exit.code, 1, warden.tail());
  const list = await marks(box);
  // What does not need init-bad came up (svc-slow ready) before the container stopped; CMD never ran.
  before(list, 'init-bad', 'slow-ready');
  before(list, 'slow-ready', 'cont-finish');
  assert.equal(at(list, 'cont-finish').what, 'cont-finish exitcode=1');
  assert.equal(list.some((m) => m.what === 'needs-bad-start' || m.what === 'cmd'), false, list.map((m) => m.what).join('\n'));
  const failed = warden.find((e) => e.event === 'stage2-failed');
  assert.equal(failed.length, 1, warden.tail());
  assert.match(String(failed[0]!.reason), /failed: init-bad/);
});

test('2: services not up within S6_CMD_WAIT_FOR_SERVICES_MAXTIME stop the container with s6-rc\'s timeout code 2', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'stage2', ETC);
  const warden = boot({ env: { ...PATIENT, NEVER_READY: '1', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2', S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '300' }, cmd: CMD });
  const exit = await warden.waitForExit(200_000);
  assert.equal(exit.code, 2, warden.tail());
  const list = await marks(box);
  assert.equal(at(list, 'cont-finish').what, 'cont-finish exitcode=2');
  assert.equal(list.some((m) => m.what === 'cmd'), false);
});

for (const [mode, warns] of [['0', false], ['1', true]] as const) {
  test(`${mode}: after a failed oneshot the bring-up ends and CMD runs; its code is the container's${warns ? '; one warning' : ''}`, { timeout: 240_000 }, async (t) => {
    const { box, boot } = await overlayBox(t, 'stage2', ETC);
    const warden = boot({ env: { ...PATIENT, FAIL_BAD: '1', S6_BEHAVIOUR_IF_STAGE2_FAILS: mode }, cmd: CMD });
    const exit = await warden.waitForExit(200_000);
    assert.equal(exit.code, 7, warden.tail());
    const list = await marks(box);
    before(list, 'slow-ready', 'cmd');
    assert.equal(list.some((m) => m.what === 'needs-bad-start'), false);
    assert.equal(warden.find((e) => e.event === 'boot-continues').length, warns ? 1 : 0, warden.tail());
  });
}

test('2: a failing S6_STAGE2_HOOK stops the container with the hook\'s code before any unit (so no cont-finish.d either); under 0 it is only logged', { timeout: 240_000 }, async (t) => {
  const hook = { S6_STAGE2_HOOK: '/etc/s6-overlay/scripts/hook', HOOK_EXIT: '5' };
  const first = await overlayBox(t, 'stage2', ETC);
  const stopped = first.boot({ env: { ...PATIENT, ...hook, S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' }, cmd: CMD });
  assert.equal((await stopped.waitForExit(200_000)).code, 5, stopped.tail());
  const list = await marks(first.box);
  // No unit ran, so neither did cont-finish.d (legacy-cont-init's down): the hook's mark only.
  assert.deepEqual(list.map((m) => m.what), ['hook']);

  const second = await overlayBox(t, 'stage2', ETC);
  const goesOn = second.boot({ env: { ...PATIENT, ...hook, S6_BEHAVIOUR_IF_STAGE2_FAILS: '0' }, cmd: CMD });
  assert.equal((await goesOn.waitForExit(200_000)).code, 7, goesOn.tail());
  assert.equal(goesOn.find((e) => e.event === 'stage2-hook-failed').length, 1, goesOn.tail());
});
