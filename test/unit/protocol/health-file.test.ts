import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthReport } from '../../../src/cli/health.js';
import { healthFileText, healthPaths, parseHealthFile } from '../../../src/protocol/health-file.js';
import { upStatus } from '../cli/status-fixture.js';

const statuses = [
  upStatus({ name: 'db', state: 'backoff', pid: null, ready: false, lastExit: { code: 3 }, deaths: 6, crashLoop: true }),
  upStatus({ name: 'bad', state: 'invalid', pid: null, ready: false, problems: [{ file: '/etc/services.d/bad/run', line: null, message: 'not executable' }] }),
  upStatus({ name: 'web', uptimeMs: 1234, upDownSince: '2026-12-07T06:00:00.000Z', rssBytes: 1 << 20 }),
];

test('the health file holds what health judges: the same lines as from the statuses themselves', () => {
  const read = parseHealthFile(healthFileText(statuses));
  assert.ok(read !== null);
  assert.deepEqual(healthReport(read, false), healthReport(statuses, false));
  assert.deepEqual(healthReport(read, false), ['db: crash loop (6 quick deaths, last exit 3)', 'bad: invalid, cannot start: /etc/services.d/bad/run: not executable']);
});

test("the health file leaves out what changes without changing health (times, usage): warden rewrites it only when health may change", () => {
  const later = statuses.map((s) => ({ ...s, uptimeMs: (s.uptimeMs ?? 0) + 5000, rssBytes: 2 << 20 }));
  assert.equal(healthFileText(later), healthFileText(statuses));
  assert.doesNotMatch(healthFileText(statuses), /uptimeMs|rssBytes|upDownSince/);
});

test('a health file of another version, or not JSON, is not read (the socket answers then)', () => {
  assert.equal(parseHealthFile(healthFileText(statuses).replace('"v":1', '"v":2')), null);
  assert.equal(parseHealthFile('{"v":1,"services":'), null);
  assert.equal(parseHealthFile('null'), null);
});

test('the health file and its FIFO are named after the socket: two wardens with sockets side by side have their own', () => {
  assert.deepEqual(healthPaths('/run/warden/control.sock'), { file: '/run/warden/control.sock.health', live: '/run/warden/control.sock.live' });
});
