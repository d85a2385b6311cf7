/** `warden health`'s judgement of each status, as a table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceStatus, StatusState } from '../../../src/protocol/service-status.js';
import { healthReport, unhealthyReason } from '../../../src/cli/health.js';
import { upStatus } from './status-fixture.js';

const status = upStatus;

const cases: readonly [string, Partial<ServiceStatus>, string | null][] = [
  ['up and ready', {}, null],
  ['up, ready, but in a crash loop', { crashLoop: true, deaths: 7, lastExit: { code: 3 } }, 'crash loop (7 quick deaths, last exit 3)'],
  ['started, not ready', { state: 'starting', ready: false }, 'started, not ready yet'],
  ['waiting for dependencies', { state: 'waiting', ready: false, pid: null }, 'waiting for its dependencies'],
  ['backing off after a kill', { state: 'backoff', ready: false, pid: null, lastExit: { signal: 'SIGSEGV' } }, 'restarting after a death, last killed by SIGSEGV'],
  ['down, wanted down', { state: 'down', goal: 'down', downReason: 'wanted', ready: false, pid: null, lastExit: { signal: 'SIGTERM' } }, 'down, wanted down'],
  ['down after exiting (restart never)', { state: 'down', goal: 'down', downReason: 'exited', ready: false, pid: null, lastExit: { code: 0 } }, 'exited, not restarted, last exit 0'],
  ['down for good (finish 125)', { state: 'down', goal: 'down', downReason: 'permanent-failure', ready: false, pid: null, lastExit: { code: 1 } }, 'down for good: its finish exited 125, last exit 1'],
  // A newer warden's state, outside this version's StatusState.
  ['a state this CLI does not know', { state: 'paused' as StatusState, ready: false, pid: null }, 'paused'],
  [
    'invalid: the first problem with its file and line, and how many more',
    { state: 'invalid', ready: false, pid: null, problems: [{ file: '/s/web/down-signal', line: 1, message: 'unknown signal "SIGFOO"' }, { file: '/s/web/notifcation-fd', line: null, message: 'not a setting file' }] },
    'invalid, cannot start: /s/web/down-signal:1: unknown signal "SIGFOO" (and 1 more problem)',
  ],
  ['invalid, as an older warden reports it (no problems field)', { state: 'invalid', ready: false, pid: null, problems: undefined }, 'invalid, cannot start: '],
  ['stopping', { state: 'stopping', ready: false }, 'stopping'],
];

for (const [name, over, reason] of cases) {
  test(`health: ${name}`, () => assert.equal(unhealthyReason(status(over)), reason));
}

test('health: without names only normally-up services are judged; named ones always are', () => {
  const all = [status({ name: 'web' }), status({ name: 'spare', normallyUp: false, state: 'down', goal: 'down', ready: false, pid: null })];
  assert.deepEqual(healthReport(all, false), []);
  assert.deepEqual(healthReport(all, true), ['spare: down, wanted down']);
  assert.deepEqual(healthReport([status({ name: 'db', state: 'starting', ready: false }), ...all], false), ['db: started, not ready yet']);
});

test('health: an invalid service counts without names too', () => {
  const bad = status({ name: 'web', state: 'invalid', ready: false, pid: null, problems: [{ file: '/s/web/run', line: null, message: 'missing' }] });
  assert.deepEqual(healthReport([bad, status({ name: 'db' })], false), ['web: invalid, cannot start: /s/web/run: missing']);
});
