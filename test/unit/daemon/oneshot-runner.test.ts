/** A oneshot's script on fake edges in virtual time: its timeouts are exact, and a down never waits past the cap. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OneshotSpec } from '../../../src/config/s6-rc-source.js';
import { runOneshot, type OneshotOutcome } from '../../../src/daemon/oneshot-runner.js';
import { ignoresTerm, VirtualWorld } from './virtual-edges.js';

const UP = '/srv/init/up';
const DOWN = '/srv/init/down';

function oneshot(timeoutUpMs: number, timeoutDownMs: number): OneshotSpec {
  return {
    name: 'init',
    dir: '/srv/init',
    action: {
      kind: 'script',
      up: { file: UP, script: { kind: 'argv', argv: [UP] } },
      down: { file: DOWN, script: { kind: 'argv', argv: [DOWN] } },
    },
    timeoutUpMs,
    timeoutDownMs,
    dependencies: [],
  };
}

function run(world: VirtualWorld, spec: OneshotSpec, phase: 'up' | 'down', downCapMs: number): { outcome: () => OneshotOutcome | null } {
  let outcome: OneshotOutcome | null = null;
  void runOneshot(spec, phase, { edges: world.edges, logger: world.logger, execlineb: 'execlineb', downCapMs }).then((o) => (outcome = o));
  return { outcome: () => outcome };
}

test('an up that outlives timeout-up is SIGKILLed exactly then and fails, saying so', async () => {
  const world = new VirtualWorld();
  world.reactions.set(UP, ignoresTerm);
  const up = run(world, oneshot(5000, 0), 'up', 10_000);
  await world.advance(4999);
  assert.deepEqual(world.live(UP).signals, []);
  assert.equal(up.outcome(), null);
  await world.advance(1);
  assert.deepEqual(world.runsOf(UP)[0]!.signals, [{ at: 5000, signal: 'SIGKILL', group: false }]);
  assert.deepEqual(up.outcome(), { ok: false, reason: `${UP} timed out after 5000 ms (timeout-up)` });
});

test('a down with no limit of its own (timeout-down 0) is capped by the services grace time', async () => {
  const world = new VirtualWorld();
  world.reactions.set(DOWN, ignoresTerm);
  const down = run(world, oneshot(0, 0), 'down', 3000);
  await world.advance(3000);
  assert.deepEqual(world.runsOf(DOWN)[0]!.signals, [{ at: 3000, signal: 'SIGKILL', group: false }]);
  assert.deepEqual(down.outcome(), { ok: false, reason: `${DOWN} timed out after 3000 ms (timeout-down, capped by the services grace time)` });
});

test('an up that ends in time succeeds and leaves no timer behind to kill anything', async () => {
  const world = new VirtualWorld();
  const up = run(world, oneshot(5000, 0), 'up', 10_000);
  await world.advance(100);
  world.exit(world.live(UP).pid, { kind: 'exited', code: 0 });
  await world.advance(10_000);
  assert.deepEqual(up.outcome(), { ok: true });
  assert.deepEqual(world.runsOf(UP)[0]!.signals, []);
});
