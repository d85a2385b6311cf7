import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serially } from '../../../src/stack/serf-handler/serially.js';

/** A pass the test ends by hand: `passes` counts the starts, `finish()` ends the running one. */
function gatedPasses() {
  const gates: Array<() => void> = [];
  let passes = 0;
  const run = () =>
    new Promise<void>((resolve) => {
      passes++;
      gates.push(resolve);
    });
  return {
    run,
    passes: () => passes,
    finish: async () => {
      gates.shift()!();
      // Let the loop see the end of the pass and start the next one, if any.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

test('burst: fifty triggers during a pass make exactly one more pass, then the handler is idle', async () => {
  const g = gatedPasses();
  const s = serially(g.run);
  s.trigger();
  assert.equal(g.passes(), 1);
  for (let i = 0; i < 50; i++) s.trigger();
  assert.equal(g.passes(), 1, 'no second pass while the first runs');
  await g.finish();
  assert.equal(g.passes(), 2, 'one more pass for the whole burst');
  await g.finish();
  await s.idle();
  assert.equal(g.passes(), 2);
});

test('a trigger after the passes ended starts a new pass at once', async () => {
  const g = gatedPasses();
  const s = serially(g.run);
  s.trigger();
  await g.finish();
  await s.idle();
  s.trigger();
  assert.equal(g.passes(), 2);
  await g.finish();
  await s.idle();
});

test('idle() waits for the pass that runs, and for the one a trigger during it asked for', async () => {
  const g = gatedPasses();
  const s = serially(g.run);
  s.trigger();
  s.trigger();
  let idle = false;
  const waiting = s.idle().then(() => (idle = true));
  await g.finish();
  assert.equal(idle, false, 'the second pass still runs');
  await g.finish();
  await waiting;
  assert.equal(g.passes(), 2);
});
