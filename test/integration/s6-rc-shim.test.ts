/**
 * The s6-rc shim against warden as PID 1 (test/fixtures/s6-rc-shim/etc): `user` holds one
 * longrun; a oneshot (backup) and a longrun that needs it (svc-uploader) are outside `user`, so
 * boot installs them down and does not run backup; a oneshot (broken) fails. CMD drives them with
 * `s6-rc -u/-d change` and `-a list`/`-da list`, as an image's scripts do.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './harness.js';
import { before, marks, overlayBox } from './overlay-box.js';

const ETC = join(REPO_ROOT, 'test/fixtures/s6-rc-shim/etc');
const PATIENT = { WARDEN_SERVICES_GRACETIME: '60000', WARDEN_KILL_FINISH_MAXTIME: '60000' } as const;

test('s6-rc -u change runs a oneshot boot did not run and starts what needs it; -d change runs its down after its dependents stop; -a/-da list', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 's6-rc-shim', ETC);
  const out = (name: string) => `"$MARK_DIR/${name}"`;
  const script = [
    's6-svwait -U /run/service/svc-app',
    `s6-rc -a list > ${out('active-at-boot')}`,
    `s6-rc -u change svc-uploader; echo $? > ${out('rc-up')}`,
    `s6-rc -a list > ${out('active-after-up')}`,
    `s6-rc -d change backup; echo $? > ${out('rc-down')}`,
    `s6-rc -da list > ${out('down-after-down')}`,
    `s6-rc -u change broken 2> ${out('broken-stderr')}; echo $? > ${out('rc-broken')}`,
    `s6-rc -da list > ${out('down-after-broken')}`,
    `s6-rc -u change no-such-unit 2> /dev/null; echo $? > ${out('rc-unknown')}`,
  ].join(' && ');
  const warden = boot({ env: PATIENT, cmd: ['/bin/sh', '-c', script] });
  const exit = await warden.waitForExit(200_000);
  assert.equal(exit.code, 0, warden.tail());
  const read = async (name: string) => ((await box.read(`marks/${name}`)) ?? '').trim().split('\n').filter((l) => l !== '');
  // Boot ran the builtin oneshots and started svc-app; backup and svc-uploader stayed down.
  assert.deepEqual(await read('active-at-boot'), ['fix-attrs', 'legacy-cont-init', 'legacy-services', 'svc-app']);
  assert.deepEqual(await read('rc-up'), ['0']);
  assert.deepEqual(await read('active-after-up'), ['backup', 'fix-attrs', 'legacy-cont-init', 'legacy-services', 'svc-app', 'svc-uploader']);
  assert.deepEqual(await read('rc-down'), ['0']);
  assert.deepEqual(await read('down-after-down'), ['backup', 'broken', 'svc-uploader']);
  assert.deepEqual(await read('rc-broken'), ['1']);
  assert.match((await read('broken-stderr')).join('\n'), /unable to start service broken/);
  assert.deepEqual(await read('down-after-broken'), ['backup', 'broken', 'svc-uploader']);
  assert.deepEqual(await read('rc-unknown'), ['3']);
  const list = await marks(box);
  // backup's up after svc-app is up, svc-uploader after backup; down: svc-uploader first, then backup's down.
  before(list, 'app-start', 'backup-up');
  before(list, 'backup-up', 'uploader-start');
  before(list, 'uploader-start', 'uploader-finish');
  before(list, 'uploader-finish', 'backup-down');
  assert.equal(list.filter((m) => m.what === 'backup-up').length, 1);
  assert.equal(list.filter((m) => m.what === 'backup-down').length, 1);
  assert.equal(list.filter((m) => m.what === 'backup-broken').length, 1);
});
