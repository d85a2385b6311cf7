/**
 * The status reply's s6 stamps (upDownSince, readySince) and normallyUp, from services driven
 * through the core in virtual time: the times s6-svstat prints must be the real transitions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceStatus } from '../../../src/protocol/service-status.js';
import type { Effect } from '../../../src/core/service-machine.js';
import { serviceStatus, waitingStatus } from '../../../src/daemon/service-status.js';
import { ev, makeSpec, quickDeaths, run, type Timed } from '../core/harness.js';

/** The wall clock reads WALL when the monotonic clock reads `now`. */
const WALL = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(WALL + ms).toISOString();

function statusAfter(events: readonly Timed[], now: number, spec = makeSpec({ notificationFd: 3 })): ServiceStatus {
  return serviceStatus(run(spec, events).service, now, WALL + now);
}

const cases: readonly { name: string; status: () => ServiceStatus; upDownSince: string | null; readySince: string | null }[] = [
  { name: 'starting: up since the spawn, not ready', status: () => statusAfter([[100, ev.spawned(7)]], 1000), upDownSince: at(100), readySince: null },
  {
    name: 'up: ready since the notification',
    status: () => statusAfter([[100, ev.spawned(7)], [400, ev.ready]], 1000),
    upDownSince: at(100),
    readySince: at(400),
  },
  {
    name: 'no notification-fd: ready since the spawn',
    status: () => statusAfter([[100, ev.spawned(7)]], 1000, makeSpec()),
    upDownSince: at(100),
    readySince: at(100),
  },
  {
    name: 'finishing: down since the death, not ready',
    status: () => statusAfter([[100, ev.spawned(7)], [400, ev.ready], [500, ev.down], [600, ev.killed(15)]], 1000, makeSpec({ notificationFd: 3, finish: '/x/finish' })),
    upDownSince: at(600),
    readySince: null,
  },
  {
    name: 'down after its finish: down since the death, ready since the finish ended',
    status: () =>
      statusAfter(
        [[100, ev.spawned(7)], [400, ev.ready], [500, ev.down], [600, ev.killed(15)], [900, ev.finishExited(0)]],
        2000,
        makeSpec({ notificationFd: 3, finish: '/x/finish' }),
      ),
    upDownSince: at(600),
    readySince: at(900),
  },
  { name: 'waiting for dependencies: no stamps', status: () => waitingStatus('svc', 'up'), upDownSince: null, readySince: null },
];

for (const c of cases) {
  test(`status stamps, ${c.name}`, () => {
    const status = c.status();
    assert.equal(status.upDownSince, c.upDownSince, JSON.stringify(status));
    assert.equal(status.readySince, c.readySince, JSON.stringify(status));
  });
}

test('normallyUp follows the down file, not the current goal', () => {
  const wantedDown = statusAfter([[100, ev.spawned(7)], [200, ev.down], [300, ev.exited(0)]], 1000, makeSpec());
  assert.equal(wantedDown.goal, 'down');
  assert.equal(wantedDown.normallyUp, true);
  const withDownFile = serviceStatus(run(makeSpec({ downAtBoot: true }), []).service, 1000, WALL + 1000);
  assert.equal(withDownFile.normallyUp, false);
});

test('crashLoop: reported while the deaths go on, no more once the service has run restart-reset ms', () => {
  const spec = makeSpec({ restartDelay: { minMs: 0, maxMs: 0 }, restartResetMs: 5000 });
  const deaths = quickDeaths(spec, 6);
  // Every restart comes at a timer, even with no delay.
  const timer = run(spec, deaths).last.find((e): e is Extract<Effect, { type: 'set-timer' }> => e.type === 'set-timer');
  const last = timer?.at ?? deaths.at(-1)![0];
  const respawned: Timed[] = [...deaths, ...(timer ? [[last, ev.timer] as Timed] : []), [last + 1, ev.spawned(999)]];
  assert.equal(serviceStatus(run(spec, deaths).service, last, WALL).crashLoop, true, 'after 6 quick deaths');
  assert.equal(serviceStatus(run(spec, respawned).service, last + 4999, WALL).crashLoop, true, 'running, not yet restart-reset ms');
  assert.equal(serviceStatus(run(spec, respawned).service, last + 5001, WALL).crashLoop, false, 'running restart-reset ms');
});

test('lastExit names the signal that killed it as the signal table does: SIGABRT and SIGIO, not their aliases; an unnamed one by number', () => {
  const killedBy = (signal: number) => statusAfter([[100, ev.spawned(7)], [200, ev.killed(signal)]], 1000, makeSpec({ restart: 'never' })).lastExit;
  assert.deepEqual(killedBy(6), { signal: 'SIGABRT' });
  assert.deepEqual(killedBy(29), { signal: 'SIGIO' });
  assert.deepEqual(killedBy(9), { signal: 'SIGKILL' });
  assert.deepEqual(killedBy(40), { signal: 'signal 40' });
});
