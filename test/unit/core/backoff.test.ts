import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKOFF_BASE_MS, CRASH_LOOP_STREAK, restartDelayMs } from '../../../src/core/backoff.js';
import type { RestartDelay } from '../../../src/core/service-spec.js';

const cases: readonly { readonly name: string; readonly delay: RestartDelay; readonly streaks: readonly number[]; readonly want: readonly number[] }[] = [
  {
    name: 'default 0 30000: at once, then 100 doubling, capped at 30000',
    delay: { minMs: 0, maxMs: 30_000 },
    streaks: [0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13],
    want: [0, 0, 100, 200, 400, 800, 1600, 25_600, 30_000, 30_000, 30_000],
  },
  {
    name: 'min below the base step: doubling from min',
    delay: { minMs: 50, maxMs: 1000 },
    streaks: [1, 2, 3, 4, 5, 6],
    want: [50, 100, 200, 400, 800, 1000],
  },
  {
    name: 'min above 100: doubling from min',
    delay: { minMs: 250, maxMs: 10_000 },
    streaks: [1, 2, 3, 4, 5, 6, 7],
    want: [250, 500, 1000, 2000, 4000, 8000, 10_000],
  },
  {
    name: 'min equal to max: always that delay',
    delay: { minMs: 5000, maxMs: 5000 },
    streaks: [1, 2, 3, 50],
    want: [5000, 5000, 5000, 5000],
  },
  {
    name: 'max 0: always at once',
    delay: { minMs: 0, maxMs: 0 },
    streaks: [1, 2, 3, 100],
    want: [0, 0, 0, 0],
  },
  {
    name: 'huge streaks stay at max',
    delay: { minMs: 0, maxMs: 30_000 },
    streaks: [33, 34, 1000, 1_000_000, Number.MAX_SAFE_INTEGER],
    want: [30_000, 30_000, 30_000, 30_000, 30_000],
  },
];

describe('restartDelayMs', () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(
        c.streaks.map((s) => restartDelayMs(s, c.delay)),
        c.want,
      );
    });
  }

  test('never Infinity or NaN, even with a huge max and huge streaks', () => {
    for (const delay of [
      { minMs: 0, maxMs: Number.MAX_SAFE_INTEGER },
      { minMs: 1e300, maxMs: 1e300 },
      { minMs: 0, maxMs: Number.MAX_VALUE },
    ]) {
      for (const streak of [1, 2, 31, 32, 33, 34, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
        const ms = restartDelayMs(streak, delay);
        assert.ok(Number.isFinite(ms), `streak ${streak}, ${JSON.stringify(delay)}: ${ms}`);
        assert.ok(ms >= delay.minMs && ms <= delay.maxMs, `streak ${streak}, ${JSON.stringify(delay)}: ${ms} out of range`);
      }
    }
  });

  test('never decreases as the streak grows', () => {
    for (const delay of [
      { minMs: 0, maxMs: 30_000 },
      { minMs: 70, maxMs: 9_999 },
      { minMs: 400, maxMs: 60_000 },
    ]) {
      let before = 0;
      for (let streak = 0; streak <= 64; streak++) {
        const ms = restartDelayMs(streak, delay);
        assert.ok(ms >= before, `streak ${streak}: ${ms} < ${before}`);
        before = ms;
      }
    }
  });

  test('the constants the schedule is built on', () => {
    assert.equal(BACKOFF_BASE_MS, 100);
    assert.equal(CRASH_LOOP_STREAK, 5);
  });
});
