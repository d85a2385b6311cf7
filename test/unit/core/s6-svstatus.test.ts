import assert from 'node:assert/strict';
import { test } from 'node:test';
import { svControlAction } from '../../../src/core/s6-control.js';
import { initialSvStatus, nextSvStatus, packDeathTally, packSvStatus, type SvStatus } from '../../../src/core/s6-svstatus.js';
import { boot, initialService, step } from '../../../src/core/service-machine.js';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { ev, exited, killed, makeSpec, type Timed } from './harness.js';

/** Wall-clock ms of virtual time 0. */
const WALL0 = 1_700_000_000_000;

/** Runs the service machine on `events` and s6's view beside it: the event letters of each step, and the last status. */
function s6View(spec: ServiceSpec, events: readonly Timed[]): { letters: string[]; status: SvStatus } {
  let service = boot(initialService(spec, 0), 0).service;
  const first = initialSvStatus(service, WALL0);
  let status = first.status;
  const letters = [first.events];
  for (const [at, event] of events) {
    service = step(service, event, at).service;
    const next = nextSvStatus(status, service, WALL0 + at);
    status = next.status;
    letters.push(next.events);
  }
  return { letters, status };
}

test('a start, readiness, a requested stop and the end of finish send s6-supervise\'s letters in order', () => {
  const spec = makeSpec({ notificationFd: 3, finish: '/svc/finish' });
  const { letters, status } = s6View(spec, [
    [10, ev.spawned(100)],
    [20, ev.ready],
    [30, ev.down],
    [40, ev.killed(15)],
    [50, ev.finishExited(0)],
  ]);
  assert.deepEqual(letters, ['s', 'u', 'U', '', 'd', 'D']);
  assert.deepEqual(status, { stamp: WALL0 + 40, readyStamp: WALL0 + 50, pid: 0, wstat: 15, paused: false, finishing: false, wantUp: false, ready: true });
});

test('a program without readiness notification is up but never ready, as under s6-supervise', () => {
  const { letters, status } = s6View(makeSpec(), [[10, ev.spawned(100)]]);
  assert.deepEqual(letters, ['s', 'u']);
  assert.equal(status.ready, false);
  assert.equal(status.pid, 100);
});

test('a death with no finish says d and D at once, with the exit code in wstat', () => {
  const { letters, status } = s6View(makeSpec({ restart: 'never' }), [
    [10, ev.spawned(100)],
    [20, ev.exited(3)],
  ]);
  assert.deepEqual(letters, ['s', 'u', 'dD']);
  assert.equal(status.wstat, 3 << 8);
  assert.equal(status.wantUp, false);
});

test('finish exiting 125 is a permanent failure: O then D', () => {
  const { letters, status } = s6View(makeSpec({ finish: '/svc/finish' }), [
    [10, ev.spawned(100)],
    [20, ev.exited(1)],
    [30, ev.finishExited(125)],
  ]);
  assert.deepEqual(letters.slice(-2), ['d', 'OD']);
  assert.equal(status.wantUp, false);
});

test('a launch that fails sends no letter until its finish is done', () => {
  const { letters } = s6View(makeSpec({ finish: '/svc/finish' }), [
    [10, ev.spawnFailed('ENOENT')],
    [20, ev.finishExited(0)],
  ]);
  assert.deepEqual(letters, ['s', '', 'D']);
});

test('the status packs as s6 2.11 lays it out: TAI64N stamps, pid, wstat, flags', () => {
  const bytes = packSvStatus({ stamp: 1_000_500, readyStamp: 2_000_000, pid: 4242, wstat: 9, paused: true, finishing: false, wantUp: true, ready: true });
  assert.equal(bytes.length, 35);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getBigUint64(0), (1n << 62n) + 37n + 1000n);
  assert.equal(view.getUint32(8), 500_000_000);
  assert.equal(view.getBigUint64(12), (1n << 62n) + 37n + 2000n);
  assert.equal(view.getBigUint64(24), 4242n);
  assert.equal(view.getUint16(32), 9);
  assert.equal(bytes[34], 1 | 4 | 8);
});

test('the death tally keeps the newest deaths, exit code 128 + signal for a killed program', () => {
  const bytes = packDeathTally(
    [
      { wallMs: 1000, status: exited(1) },
      { wallMs: 2000, status: killed(9) },
    ],
    1,
  );
  assert.equal(bytes.length, 14);
  assert.deepEqual([bytes[12], bytes[13]], [137, 9]);
  assert.equal(packDeathTally([{ wallMs: 1000, status: exited(1) }], 0).length, 0);
});

test('control letters map onto warden\'s commands; x is refused, unknown bytes ignored', () => {
  assert.deepEqual(svControlAction('d', true)?.command, { cmd: 'down' });
  assert.deepEqual(svControlAction('k', true)?.command, { cmd: 'signal', signal: 'SIGKILL' });
  assert.equal(svControlAction('p', true)?.paused, true);
  assert.equal(svControlAction('D', true)?.downFile, 'add');
  assert.deepEqual(svControlAction('O', true)?.command, { cmd: 'once' });
  assert.deepEqual(svControlAction('O', false)?.command, { cmd: 'down' });
  assert.notEqual(svControlAction('x', true)?.refused, null);
  assert.equal(svControlAction('\n', true), null);
});
