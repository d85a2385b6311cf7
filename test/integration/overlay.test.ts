/**
 * An s6-overlay image's tree (test/fixtures/overlay/app/etc: cont-init.d, an s6-rc.d with
 * oneshots, longruns, a bundle, the user and user2 bundles, services.d, cont-finish.d; with-contenv,
 * execline and finish scripts) booting under warden as PID 1, at the paths an image has them:
 * inside warden's private mount namespace the fixture is overlaid on /etc, the shims on
 * /usr/bin (as an image installs them), and /run is a fresh tmpfs, as in a container.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { at, before, marks, overlayBox } from './overlay-box.js';

/** Unix ms of a TAI64N label (@ + 16 hex digits of 2^62 + TAI seconds + 8 of nanoseconds). */
function tai64nMs(label: string): number {
  assert.match(label, /^@[0-9a-f]{24}$/);
  const secs = BigInt(`0x${label.slice(1, 17)}`) - (1n << 62n) - 37n;
  return Number(secs) * 1000 + Math.floor(Number(BigInt(`0x${label.slice(17)}`)) / 1_000_000);
}

/** The shutdown's deadlines (stopping services, cont-finish.d) with room for a loaded machine: not what is tested here. */
const PATIENT = { WARDEN_SERVICES_GRACETIME: '60000', WARDEN_KILL_FINISH_MAXTIME: '60000' } as const;

test('an s6-overlay tree boots in dependency order, CMD sees the shims, and the container exits with CMD\'s code', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'app');
  const cmd = [
    '/bin/sh',
    '-c',
    [
      's6-svwait -U /run/service/svc-web',
      's6-svstat /run/service/svc-db > "$MARK_DIR/svstat"',
      's6-svstat -o up,ready /run/service/svc-web >> "$MARK_DIR/svstat"',
      // cron counts as up once started: wait for its script to leave its mark before stopping it.
      'until grep -q cron-start "$MARK_DIR/events"; do sleep 0.1; done',
      's6-svc -wD -d /run/service/legacy-cron',
      's6-svstat -u /run/service/legacy-cron >> "$MARK_DIR/svstat"',
      's6-svstat -o updownsince,readysince /run/service/svc-db >> "$MARK_DIR/svstat"',
      'exit 3',
    ].join(' && '),
  ];
  const warden = boot({ cmd, env: { ...PATIENT, S6_SYNC_DISKS: '1', S6_LOGGING_SCRIPT: 'n20 s1000000 T' } });
  const exit = await warden.waitForExit(200_000);
  const list = await marks(box);
  assert.equal(exit.code, 3, warden.tail());

  // with-contenv: the container env (APP_NAME) and what cont-init.d added to it (FROM_INIT).
  assert.equal(at(list, 'cont-init').what, 'cont-init demo');
  assert.equal(at(list, 'init-config').what, 'init-config demo set-by-cont-init');
  assert.equal(at(list, 'web-start').what, 'web-start demo set-by-cont-init');
  // Order: cont-init.d, then the oneshot, the db up and ready, then its dependents.
  before(list, 'cont-init', 'init-config');
  before(list, 'init-config', 'db-start');
  before(list, 'db-ready', 'web-start');
  before(list, 'db-ready', 'migrate');
  // services.d once all of user is up (the db ready, web running, the migration done).
  for (const earlier of ['db-ready', 'web-start', 'migrated-demo']) before(list, earlier, 'cron-start');
  // svc-report, in user2 with a dependency on legacy-services (as s6-overlay's README says to put a
  // user2 service after services.d): after all of user and after services.d (cron) has started.
  // cron has no readiness, so it counts once started: its script's mark may come later.
  for (const earlier of ['web-start', 'migrated-demo']) before(list, earlier, 'report-start');
  const started = (service: string): number => warden.events.findIndex((e) => e.event === 'started' && e.service === service);
  assert.ok(started('legacy-cron') >= 0 && started('legacy-cron') < started('svc-report'), warden.tail());
  // The execline oneshot ran through execlineb, importas included.
  assert.equal(at(list, 'migrated-demo').what, 'migrated-demo');
  at(list, 'cron-start');
  // Shutdown: web stops (its finish runs) before init-config's down; cont-finish.d last, seeing CMD's code.
  before(list, 'web-finish', 'init-config-down');
  before(list, 'init-config-down', 'cont-finish');
  assert.equal(at(list, 'cont-finish').what, 'cont-finish exitcode=3');

  const svstat = ((await box.read('marks/svstat')) ?? '').split('\n');
  assert.match(svstat[0]!, /^up \(pid \d+\) \d+ seconds, ready \d+ seconds$/);
  assert.equal(svstat[1], 'true true');
  assert.equal(svstat[2], 'false');
  // The stamps are the real transitions: svc-db's start and its readiness, as its script marked them.
  const [upSince, readySince] = svstat[3]!.split(' ').map(tai64nMs) as [number, number];
  const ms = (what: string): number => Number(at(list, what).ns / 1_000_000n);
  // Bounded by what happened before and after, not by a time: the start came after init-config's
  // mark and no later than warden's own log of it (db's first mark may come before warden, on a
  // loaded machine, gets back from the spawn: s6-supervise stamps after its fork returns too);
  // readiness after db's "ready" mark and before web started.
  const dbStarted = warden.find((e) => e.event === 'started' && e.service === 'svc-db')[0];
  assert.ok(typeof dbStarted?.time === 'number', warden.tail());
  assert.ok(upSince >= ms('init-config') && upSince <= dbStarted.time + 1, `updownsince ${upSince} vs init-config ${ms('init-config')} / warden's started ${dbStarted.time} (db-start ${ms('db-start')})`);
  assert.ok(readySince >= ms('db-ready') && readySince <= ms('web-start') + 1, `readysince ${svstat[3]} vs db-ready/web-start`);
  // Every S6_* variable set gets its line, saying whether warden honours it.
  assert.equal(warden.find((e) => e.event === 's6-setting' && e.variable === 'S6_SYNC_DISKS').length, 1, warden.tail());
  assert.equal(warden.find((e) => e.event === 's6-setting-ignored' && e.variable === 'S6_LOGGING_SCRIPT').length, 1, warden.tail());
});

test('a finish script that writes the exitcode file and runs /run/s6/basedir/bin/halt sets the container\'s code', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'app');
  const warden = boot({ env: { ...PATIENT, HALT_WITH: '42' } });
  const exit = await warden.waitForExit(200_000);
  assert.equal(exit.code, 42, warden.tail());
  const list = await marks(box);
  assert.equal(at(list, 'web-finish').what, 'web-finish 7 0');
  assert.equal(at(list, 'cont-finish').what, 'cont-finish exitcode=42');
});

test('with S6_BEHAVIOUR_IF_STAGE2_FAILS=2 a failing oneshot stops the container with s6-rc\'s 1; its dependents never start', { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'app');
  const warden = boot({ env: { ...PATIENT, FAIL_INIT: '1', S6_BEHAVIOUR_IF_STAGE2_FAILS: '2' } });
  const exit = await warden.waitForExit(200_000);
  assert.equal(exit.code, 1, warden.tail());
  const failed = warden.find((e) => e.event === 'oneshot-failed' && e.service === 'init-config');
  assert.equal(failed.length, 1, warden.tail());
  // services.d (legacy-cron) waits for all of user, so it is blocked too, and what waits for it.
  assert.equal(failed[0]!.blocked, 'init-migrate,legacy-cron,legacy-services,svc-db,svc-report,svc-web');
  const list = await marks(box);
  assert.equal(list.some((m) => m.what.startsWith('db-start')), false);
});

for (const [env, what] of [[{}, 'unset (s6-overlay\'s 0)'], [{ S6_BEHAVIOUR_IF_STAGE2_FAILS: '1' }, '1']] as const) {
test(`with S6_BEHAVIOUR_IF_STAGE2_FAILS ${what} a failing oneshot is logged: the container goes on, its dependents wait`, { timeout: 240_000 }, async (t) => {
  const { box, boot } = await overlayBox(t, 'app');
  const warden = boot({ env: { ...PATIENT, FAIL_INIT: '1', ...env } });
  await warden.waitForEvent((e) => e.event === 'oneshot-failed', 100_000, "oneshot-failed");
  // The other branch of the tree (svc-report waits for legacy-services, which waits for all of user) is blocked too.
  await sleep(1000);
  assert.equal(warden.exited, false);
  assert.equal(warden.find((e) => e.event === 'boot-continues').length, 'S6_BEHAVIOUR_IF_STAGE2_FAILS' in env ? 1 : 0, warden.tail());
  // Everything else waits for the failed oneshot (services.d too, as it waits for all of user).
  assert.equal(warden.find((e) => e.event === 'started').length, 0, warden.tail());
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(100_000)).code, 0, warden.tail());
  assert.equal((await marks(box)).some((m) => m.what.startsWith('db-start')), false);
});
}
