/**
 * The unit set over a real Supervisor, both on fake edges in virtual time: rescans, changes and
 * the shutdown's stop layers, with every stop deadline at its exact virtual time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { resolveUnits, type UnitDef } from '../../../src/core/unit-set.js';
import { ServiceSet, type LoadedUnits } from '../../../src/daemon/service-set.js';
import { Supervisor } from '../../../src/daemon/supervisor.js';
import { makeSpec } from '../core/harness.js';
import { ignoresTerm, VirtualWorld } from './virtual-edges.js';

const longrun = (name: string, deps: string[] = []): UnitDef => ({
  kind: 'longrun',
  name,
  dir: `/srv/${name}`,
  deps: deps.map((d) => ({ name: d, file: `/srv/${name}/dependencies.d/${d}` })),
  producerFor: null,
  consumerFor: [],
  pipelineName: null,
});

const service = (name: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec =>
  makeSpec({ name, dir: `/srv/${name}`, run: `/srv/${name}/run`, ...overrides });

/** `b` depends on `a`; both wanted up. */
function scan(a: ServiceSpec, b: ServiceSpec): LoadedUnits {
  return {
    set: resolveUnits([longrun('a'), longrun('b', ['a'])], ['a', 'b']),
    services: [a, b],
    oneshots: [],
    invalid: [],
  };
}

function unitSet(world: VirtualWorld, load: () => LoadedUnits): { set: ServiceSet; supervisor: Supervisor } {
  const supervisor = new Supervisor({ edges: world.edges, logger: world.logger, notifyDir: '/nonexistent/notify', onHalt: () => undefined });
  const set = new ServiceSet({
    edges: world.edges,
    supervisor,
    logger: world.logger,
    load: () => Promise.resolve(load()),
    stopBudgetMs: () => 10_000,
    runOneshot: () => Promise.resolve({ ok: true }),
  });
  return { set, supervisor };
}

test('a rescan replacing a service when shutdown begins finishes first, starts nothing, and the stop layers follow it', async () => {
  const world = new VirtualWorld();
  world.reactions.set('/srv/a/run', ignoresTerm);
  let scanned = scan(service('a', { timeoutKillMs: 3000 }), service('b'));
  const { set, supervisor } = unitSet(world, () => scanned);
  await set.rescan('boot');
  await world.advance(0);
  assert.deepEqual(world.processes.map((p) => [p.req.file, p.startedAt]), [['/srv/a/run', 0], ['/srv/b/run', 0]]);

  await world.advance(1000);
  // `a` changed on disk: the rescan stops it (TERM, which it ignores) to start it anew.
  scanned = scan(service('a', { timeoutKillMs: 3000, scriptsFingerprint: 'edited' }), service('b'));
  let rescanned = false;
  const rescan = set.rescan('reload').then(() => (rescanned = true));
  await world.advance(500);
  const a = world.runsOf('/srv/a/run')[0]!;
  assert.deepEqual(a.signals.map((s) => [s.at, s.signal]), [[1000, 'SIGTERM'], [1000, 'SIGCONT']]);

  let stopped = false;
  const stopping = set.stopAll().then(() => (stopped = true));
  await world.advance(1000);
  assert.equal(rescanned, false, 'the rescan still waits for its old run');
  assert.equal(stopped, false, 'shutdown waits for the rescan');
  const b = world.live('/srv/b/run');
  assert.equal(b.signals.length, 0, 'no stop layer runs before the rescan is over');

  await world.advance(1500);
  assert.deepEqual(a.signals.at(-1), { at: 4000, signal: 'SIGKILL', group: false });
  await rescan;
  await stopping;
  assert.equal(world.runsOf('/srv/a/run').length, 1, 'the replaced service is not started again once shutdown began');
  assert.deepEqual(b.signals.map((s) => [s.at, s.signal]), [[4000, 'SIGTERM'], [4000, 'SIGCONT']]);
  assert.equal(supervisor.get('a'), undefined);
  assert.equal(supervisor.get('b')?.state.kind, 'down');
});

test('shutdown stops dependents first: a dependency gets its down signal only once what needs it is down', async () => {
  const world = new VirtualWorld();
  world.reactions.set('/srv/b/run', ignoresTerm);
  const { set } = unitSet(world, () => scan(service('a'), service('b', { timeoutKillMs: 2000 })));
  await set.rescan('boot');
  await world.advance(100);
  const stopping = set.stopAll();
  await world.advance(0);
  const a = world.live('/srv/a/run');
  const b = world.live('/srv/b/run');
  assert.deepEqual(b.signals.map((s) => [s.at, s.signal]), [[100, 'SIGTERM'], [100, 'SIGCONT']]);
  assert.equal(a.signals.length, 0);
  await world.advance(1999);
  assert.equal(a.signals.length, 0, 'a is not stopped while b runs');
  await world.advance(1);
  assert.deepEqual(b.signals.at(-1), { at: 2100, signal: 'SIGKILL', group: false });
  await stopping;
  assert.deepEqual(a.signals.map((s) => [s.at, s.signal]), [[2100, 'SIGTERM'], [2100, 'SIGCONT']]);
});
