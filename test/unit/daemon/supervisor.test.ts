/**
 * The Supervisor with fake edges, in virtual time: every timer fires at its exact virtual time,
 * so the backoff delays and the stop deadlines are asserted to the millisecond.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { Supervisor } from '../../../src/daemon/supervisor.js';
import { makeSpec } from '../core/harness.js';
import { ignoresTerm, VirtualWorld } from './virtual-edges.js';

const RUN = '/srv/svc/run';
const FINISH = '/srv/svc/finish';

function supervise(world: VirtualWorld, spec: Partial<ServiceSpec> = {}): { supervisor: Supervisor; halts: [number, string][] } {
  const halts: [number, string][] = [];
  const supervisor = new Supervisor({
    edges: world.edges,
    logger: world.logger,
    notifyDir: '/nonexistent/notify',
    onHalt: (code, by) => void halts.push([code, by]),
  });
  supervisor.add(makeSpec({ dir: '/srv/svc', run: RUN, ...spec }));
  return { supervisor, halts };
}

test('a crash loop restarts after exactly the backoff delays: 0, 100, 200, 400, 800, 1600 ms', async () => {
  const world = new VirtualWorld();
  supervise(world);
  // Each run dies 10 ms after it starts, exit 1.
  while (world.runsOf(RUN).length < 7) {
    const run = world.live(RUN);
    await world.advance(run.startedAt + 10 - world.now);
    world.exit(run.pid, { kind: 'exited', code: 1 });
    // The next start comes only from its backoff timer: advance to it, one timer at a time.
    await world.advance(0);
    while (world.runsOf(RUN).every((p) => p.exited)) await world.advance(1);
  }
  assert.deepEqual(
    world.runsOf(RUN).map((p) => p.startedAt),
    [0, 10, 120, 330, 740, 1550, 3160],
  );
  const loop = world.logged('crash-loop');
  assert.equal(loop.length, 1, 'crash-loop is said once');
  assert.equal(loop[0]!.deaths, 5);
});

test('a service that ignores its down signal is SIGKILLed exactly at its kill deadline', async () => {
  const world = new VirtualWorld();
  world.reactions.set(RUN, ignoresTerm);
  const { supervisor } = supervise(world, { timeoutKillMs: 3000 });
  await world.advance(1000);
  supervisor.send('svc', { type: 'down' });
  const run = world.live(RUN);
  assert.deepEqual(run.signals, [
    { at: 1000, signal: 'SIGTERM', group: false },
    { at: 1000, signal: 'SIGCONT', group: false },
  ]);
  await world.advance(2999);
  assert.equal(run.signals.length, 2, 'no SIGKILL a millisecond before the deadline');
  await world.advance(1);
  assert.deepEqual(run.signals.at(-1), { at: 4000, signal: 'SIGKILL', group: false });
  assert.equal(supervisor.get('svc')?.state.kind, 'down');
  assert.equal(world.logged('kill-timeout').length, 1);
  assert.equal(world.runsOf(RUN).length, 1, 'wanted down: not started again');
});

test('retire: a service with no kill timeout that ignores its down signal has its process group SIGKILLed at the stop budget, then is forgotten', async () => {
  const world = new VirtualWorld();
  world.reactions.set(RUN, ignoresTerm);
  const { supervisor } = supervise(world, { timeoutKillMs: 0 });
  await world.advance(100);
  let retired = false;
  const retiring = supervisor.retire('svc', 5000).then(() => (retired = true));
  const run = world.live(RUN);
  await world.advance(4999);
  assert.deepEqual(run.signals.map((s) => s.signal), ['SIGTERM', 'SIGCONT']);
  assert.equal(retired, false);
  await world.advance(1);
  assert.deepEqual(run.signals.at(-1), { at: 5100, signal: 'SIGKILL', group: true });
  await retiring;
  assert.equal(supervisor.get('svc'), undefined);
  assert.equal(world.logged('retire-kill').length, 1);
});

test('retire: a finish script still running at the stop budget has its own process group SIGKILLed', async () => {
  const world = new VirtualWorld();
  world.reactions.set(FINISH, ignoresTerm);
  const { supervisor } = supervise(world, { finish: FINISH, timeoutFinishMs: 0 });
  await world.advance(100);
  const retiring = supervisor.retire('svc', 2000);
  await world.advance(0);
  const run = world.runsOf(RUN)[0]!;
  assert.equal(run.exited, true, 'the run died of its SIGTERM');
  const finish = world.live(FINISH);
  assert.deepEqual(finish.req.args, ['256', '15', 'svc']);
  await world.advance(2000);
  assert.deepEqual(finish.signals, [{ at: 2100, signal: 'SIGKILL', group: true }]);
  assert.deepEqual(run.signals.map((s) => s.signal), ['SIGTERM', 'SIGCONT'], 'the dead run is not signalled again');
  await retiring;
  assert.equal(supervisor.get('svc'), undefined);
});

test('on-exit halt with a finish script: the container halts with the run\'s code once finish has ended, not before', async () => {
  const world = new VirtualWorld();
  const { supervisor, halts } = supervise(world, { onExit: 'halt', finish: FINISH });
  await world.advance(50);
  world.exit(world.live(RUN).pid, { kind: 'exited', code: 3 });
  await world.advance(0);
  const finish = world.live(FINISH);
  assert.deepEqual(finish.req.args, ['3', '0', 'svc']);
  await world.advance(200);
  assert.deepEqual(halts, [], 'no halt while finish runs');
  world.exit(finish.pid, { kind: 'exited', code: 0 });
  await world.advance(0);
  assert.deepEqual(halts, [[3, 'svc']]);
  assert.equal(supervisor.get('svc')?.state.kind, 'down');
  assert.equal(world.runsOf(RUN).length, 1, 'a halting service is not restarted');
});

test('a finish that outlives its timeout is SIGKILLed at exactly timeout-finish, and the service restarts after it', async () => {
  const world = new VirtualWorld();
  world.reactions.set(FINISH, ignoresTerm);
  const { supervisor } = supervise(world, { finish: FINISH, timeoutFinishMs: 700 });
  await world.advance(20_000);
  world.exit(world.live(RUN).pid, { kind: 'exited', code: 1 });
  await world.advance(0);
  const finish = world.live(FINISH);
  await world.advance(699);
  assert.deepEqual(finish.signals, []);
  await world.advance(1);
  assert.deepEqual(finish.signals, [{ at: 20_700, signal: 'SIGKILL', group: false }]);
  await world.advance(0);
  assert.equal(world.runsOf(RUN).length, 2, 'restarted once finish is dead');
  assert.equal(world.runsOf(RUN)[1]!.startedAt, 20_700);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
});

test('a finish of a replaced run that exits late is ignored: the new run\'s finish is the one the state waits for', async () => {
  const world = new VirtualWorld();
  // Its finish outlives even SIGKILL (stuck in the kernel): retire gives up on it and forgets it.
  world.reactions.set(FINISH, () => null);
  const { supervisor } = supervise(world, { finish: FINISH, timeoutFinishMs: 0 });
  await world.advance(100);
  world.exit(world.live(RUN).pid, { kind: 'exited', code: 1 });
  await world.advance(0);
  const oldFinish = world.live(FINISH);
  const replacing = supervisor.replace(makeSpec({ dir: '/srv/svc', run: RUN, finish: FINISH, timeoutFinishMs: 0, scriptsFingerprint: 'edited' }), 1000);
  await world.advance(1000 + 2000);
  await replacing;
  assert.deepEqual(oldFinish.signals.map((s) => [s.at, s.signal, s.group]), [[1100, 'SIGKILL', true]]);
  const newRun = world.live(RUN);
  assert.equal(newRun.startedAt, 3100, 'the new spec runs once the old one is forgotten');
  world.exit(newRun.pid, { kind: 'exited', code: 1 });
  await world.advance(0);
  const newFinish = world.runsOf(FINISH).find((p) => p !== oldFinish)!;
  world.exit(oldFinish.pid, { kind: 'exited', code: 0 });
  await world.advance(0);
  const state = supervisor.get('svc')?.state;
  assert.deepEqual(state?.kind === 'finishing' ? state.finisher : state, { kind: 'running', pid: newFinish.pid });
  world.exit(newFinish.pid, { kind: 'exited', code: 0 });
  await world.advance(0);
  assert.equal(world.runsOf(RUN).length, 3, 'the new finish ending restarts the service');
});
