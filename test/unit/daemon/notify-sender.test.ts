/**
 * Who may say READY=1 on a service's NOTIFY_SOCKET, through the Supervisor: the datagrams come
 * with the credentials the test gives them, and the process tree is the one the test writes, so
 * a sender inside, outside or gone is decided without a real process. (The real sockets and
 * /proc: test/integration/readiness.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NotifyAccess } from '../../../src/core/service-spec.js';
import { Supervisor } from '../../../src/daemon/supervisor.js';
import { makeSpec } from '../core/harness.js';
import { VirtualWorld } from './virtual-edges.js';

const RUN = '/srv/svc/run';

async function notifyService(access: NotifyAccess): Promise<{ world: VirtualWorld; supervisor: Supervisor; main: number }> {
  const world = new VirtualWorld();
  const supervisor = new Supervisor({ edges: world.edges, logger: world.logger, notifyDir: '/virtual/notify', onHalt: () => undefined });
  supervisor.add(makeSpec({ dir: '/srv/svc', run: RUN, notifySocket: true, notifyAccess: access }));
  await world.advance(0);
  const main = world.live(RUN);
  assert.equal(main.req.env.NOTIFY_SOCKET, '/virtual/notify/svc.sock');
  assert.equal(supervisor.get('svc')?.state.kind, 'starting', 'not ready before it says so');
  return { world, supervisor, main: main.pid };
}

test('notify-socket all: READY=1 from a process outside the run\'s tree is refused, from a grandchild of the run accepted', async () => {
  const { world, supervisor, main } = await notifyService('all');
  // 900 is a child of another of warden's children, 901 of init: both outside.
  world.others.set(800, { ppid: 1, uid: 0 });
  world.others.set(900, { ppid: 800, uid: 0 });
  world.others.set(901, { ppid: 1, uid: 0 });
  world.notify('svc', 'READY=1', { pid: 900, uid: 0, gid: 0 });
  world.notify('svc', 'READY=1', { pid: 901, uid: 0, gid: 0 });
  await world.advance(10);
  assert.equal(supervisor.get('svc')?.state.kind, 'starting');
  const refused = world.logged('notify-refused');
  assert.deepEqual(refused.map((l) => l.pid), [900, 901]);
  assert.match(String(refused[0]!.msg), /pid 900 .* is not the main process \d+ nor one of its descendants/);

  world.others.set(950, { ppid: main, uid: 1000 });
  world.others.set(951, { ppid: 950, uid: 1000 });
  world.notify('svc', 'STATUS=warming up\nREADY=1', { pid: 951, uid: 1000, gid: 1000 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
  assert.equal(world.logged('ready')[0]!.afterMs, 10);
  assert.equal(world.logged('notify-refused').length, 2, 'nothing more refused');
});

test('notify-socket all: a sender gone before its message is read counts only when it ran as the main process\'s user', async () => {
  const { world, supervisor, main } = await notifyService('all');
  world.others.set(main, { ppid: 1, uid: 1000 });
  world.notify('svc', 'READY=1', { pid: 970, uid: 0, gid: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'starting');
  assert.match(String(world.logged('notify-refused')[0]!.msg), /pid 970 \(uid 0\) is gone and ran as another user than the main process \(uid 1000\)/);
  world.notify('svc', 'READY=1', { pid: 971, uid: 1000, gid: 1000 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
});

test('notify-socket main: READY=1 from a child of the run is refused, from the run\'s own pid accepted', async () => {
  const { world, supervisor, main } = await notifyService('main');
  world.others.set(960, { ppid: main, uid: 0 });
  world.notify('svc', 'READY=1', { pid: 960, uid: 0, gid: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'starting');
  assert.match(String(world.logged('notify-refused')[0]!.msg), new RegExp(`pid 960 is not the main process ${main} \\(notify-socket says main\\)`));
  world.notify('svc', 'READY=1', { pid: main, uid: 0, gid: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
});

test('a READY=1 that arrives after its run died is not taken for the next run, whose own socket waits for its own', async () => {
  const { world, supervisor, main } = await notifyService('all');
  const stale = world.sockets.get('svc')!;
  world.exit(main, { kind: 'exited', code: 1 });
  await world.advance(0);
  const next = world.live(RUN);
  assert.notEqual(next.pid, main);
  assert.notEqual(world.sockets.get('svc'), stale, 'each run has its own socket');
  stale('READY=1', { pid: main, uid: 0, gid: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'starting');
  world.notify('svc', 'READY=1', { pid: next.pid, uid: 0, gid: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
});
