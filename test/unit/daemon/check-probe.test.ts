/**
 * A service's `check` probe through the Supervisor, in virtual time: the probe's timeout, its
 * SIGKILL, the wait for its pipes and what its result makes of the service, each at its exact
 * virtual millisecond. (test/integration/readiness.test.ts runs real probes under a real PID 1.)
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { Supervisor } from '../../../src/daemon/supervisor.js';
import { makeSpec } from '../core/harness.js';
import { VirtualWorld, type FakeProcess } from './virtual-edges.js';

const RUN = '/srv/svc/run';
const CHECK = '/srv/svc/check';

function supervise(world: VirtualWorld, check: Partial<NonNullable<ServiceSpec['check']>> = {}): Supervisor {
  const supervisor = new Supervisor({ edges: world.edges, logger: world.logger, notifyDir: '/nonexistent/notify', onHalt: () => undefined });
  supervisor.add(makeSpec({ dir: '/srv/svc', run: RUN, check: { file: CHECK, intervalMs: 500, timeoutMs: 1000, retries: 2, ...check } }));
  return supervisor;
}

/** The first probe, given pipes as the real launcher gives them: the test writes and closes them. */
async function firstProbe(world: VirtualWorld): Promise<{ probe: FakeProcess; stdout: PassThrough; stderr: PassThrough }> {
  await world.advance(0);
  const probe = world.live(CHECK);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  probe.req.onOutput!(stdout, stderr);
  return { probe, stdout, stderr };
}

test('a check that outlives check-timeout has its process group SIGKILLed exactly at the timeout, and the next run starts check-interval later', async () => {
  const world = new VirtualWorld();
  const supervisor = supervise(world);
  await world.advance(0);
  const first = world.live(CHECK);
  assert.equal(first.startedAt, 0, 'the first probe runs as the service starts');
  assert.equal(first.req.detached, true, 'in its own process group');
  await world.advance(999);
  assert.deepEqual(first.signals, [], 'not killed a millisecond before its timeout');
  await world.advance(1);
  assert.deepEqual(first.signals, [{ at: 1000, signal: 'SIGKILL', group: true }]);
  assert.equal(first.exited, true);
  const failed = world.logged('check-not-ready');
  assert.equal(failed.length, 1, 'one failure for the run, not a second one when the killed probe exits');
  assert.equal(failed[0]!.timedOut, true);
  assert.equal(failed[0]!.afterMs, 1000);
  assert.equal(supervisor.get('svc')?.state.kind, 'starting', 'before it is ready, a failure does not count');
  assert.deepEqual(world.logged('illegal-event'), []);

  await world.advance(499);
  assert.equal(world.runsOf(CHECK).length, 1);
  await world.advance(1);
  const second = world.live(CHECK);
  assert.equal(second.startedAt, 1500);
  world.exit(second.pid, { kind: 'exited', code: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
  assert.deepEqual(second.signals, [], 'a probe that passed is not killed');
  assert.equal(world.logged('ready')[0]!.afterMs, 1500);
});

test('once up, check-retries timed-out probes in a row restart the service: each probe killed at its timeout, then the run', async () => {
  const world = new VirtualWorld();
  const supervisor = supervise(world, { retries: 2 });
  await world.advance(0);
  world.exit(world.live(CHECK).pid, { kind: 'exited', code: 0 });
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
  const run = world.live(RUN);
  // Every later probe hangs: 500 ms idle, then 1000 ms until its SIGKILL.
  await world.advance(1500);
  assert.deepEqual(world.runsOf(CHECK)[1]!.signals, [{ at: 1500, signal: 'SIGKILL', group: true }]);
  assert.equal(world.logged('check-failure').length, 1);
  assert.equal(run.signals.length, 0, 'one failure of two: the service keeps running');
  await world.advance(1500);
  assert.deepEqual(world.runsOf(CHECK)[2]!.signals, [{ at: 3000, signal: 'SIGKILL', group: true }]);
  const failed = world.logged('check-failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.timedOut, true);
  assert.equal(failed[0]!.failures, 2);
  assert.deepEqual(run.signals.map((s) => [s.at, s.signal]), [[3000, 'SIGTERM'], [3000, 'SIGCONT']], 'restarted as `warden restart` would');
});

test('a failing probe whose pipes a background child holds open: its result comes DRAIN (100 ms) after its exit, with what it printed', async () => {
  const world = new VirtualWorld();
  const supervisor = supervise(world);
  const { probe, stdout, stderr } = await firstProbe(world);
  stdout.write('port 8080 not listening yet\n');
  stderr.end();
  await world.advance(200);
  world.exit(probe.pid, { kind: 'exited', code: 1 });
  await world.advance(99);
  assert.deepEqual(world.logged('check-not-ready'), [], 'the pipes may still bring output');
  await world.advance(1);
  const failed = world.logged('check-not-ready');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.output, 'port 8080 not listening yet');
  assert.equal(failed[0]!.code, 1);
  assert.deepEqual(probe.signals, [], 'a probe that exited is not killed');
  assert.equal(supervisor.get('svc')?.state.kind, 'starting');
  // The next probe starts check-interval after the result, not after the exit.
  await world.advance(499);
  assert.equal(world.runsOf(CHECK).length, 1);
  await world.advance(1);
  assert.equal(world.live(CHECK).startedAt, 800);
  stdout.destroy();
});

test('a probe whose pipes close soon after its exit: its result comes as they close, not at the end of the drain wait', async () => {
  const world = new VirtualWorld();
  const supervisor = supervise(world);
  const { probe, stdout, stderr } = await firstProbe(world);
  stdout.write('ok\n');
  await world.advance(50);
  world.exit(probe.pid, { kind: 'exited', code: 0 });
  await world.advance(10);
  assert.equal(supervisor.get('svc')?.state.kind, 'starting', 'its pipes are still open');
  stdout.end();
  stderr.end();
  await world.advance(0);
  assert.equal(supervisor.get('svc')?.state.kind, 'up');
  assert.equal(world.logged('ready')[0]!.afterMs, 60);
});
