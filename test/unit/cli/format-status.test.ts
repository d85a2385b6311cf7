import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServiceStatus } from '../../../src/protocol/service-status.js';
import { duration, formatStatusTable, memory } from '../../../src/cli/format-status.js';
import { upStatus } from './status-fixture.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/;
// eslint-disable-next-line no-control-regex
const ANSI_ALL = /\x1b\[[0-9;]*m/g;

/** An SGR escape: ESC [ code m. */
const sgr = (code: number): string => `\x1b[${code}m`;
const assertHas = (text: string, part: string): void => assert.ok(text.includes(part), `${JSON.stringify(part)} in ${JSON.stringify(text)}`);

const NOW = Date.parse('2025-01-01T00:00:00.000Z');

function status(over: Partial<ServiceStatus> & { name: string }): ServiceStatus {
  const since = new Date(NOW - 5000).toISOString();
  return upStatus({ upDownSince: since, readySince: since, ...over });
}

/** The table's lines split into cells (two or more spaces apart). */
const cells = (table: string): string[][] =>
  table
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/ {2,}/));

describe('duration', () => {
  const cases: readonly [number | null, string][] = [
    [null, '-'],
    [0, '0s'],
    [999, '0s'],
    [1000, '1s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [61_000, '1m01s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h00m'],
    [3_660_000, '1h01m'],
    [86_399_000, '23h59m'],
    [86_400_000, '1d00h'],
    [90_000_000, '1d01h'],
    [10 * 86_400_000, '10d00h'],
  ];
  for (const [ms, want] of cases) test(`${String(ms)} ms → ${want}`, () => assert.equal(duration(ms), want));
});

describe('memory', () => {
  const cases: readonly [number | null, string][] = [
    [null, '-'],
    [0, '0K'],
    [812 * 1024, '812K'],
    [1024 * 1024, '1.0M'],
    [43_300_000, '41.3M'],
    [1.25 * 1024 ** 3, '1.3G'],
  ];
  for (const [bytes, want] of cases) test(`${String(bytes)} bytes → ${want}`, () => assert.equal(memory(bytes), want));
});

describe('formatStatusTable', () => {
  const services = [
    status({ name: 'web', pid: 4242, uptimeMs: 65_000, restarts: 2, lastExit: { code: 3 }, rssBytes: 43_300_000, cpuMs: 1200, cpuPercent: 2.5, processes: 3 }),
    status({ name: 'db', state: 'down', goal: 'down', pid: null, uptimeMs: null, ready: false, downReason: 'wanted', lastExit: { signal: 'SIGTERM' } }),
  ];

  test('a header with every column, then one row per service, in order', () => {
    const rows = cells(formatStatusTable(services, false, NOW));
    assert.deepEqual(rows[0], ['SERVICE', 'STATE', 'PID', 'UPTIME', 'MEM', 'CPU', 'READY', 'RESTARTS', 'LAST EXIT', 'NOTE']);
    assert.deepEqual(rows[1], ['web', 'up', '4242', '1m05s', '41.3M', '2.5%', 'yes', '2', 'exit 3']);
    assert.deepEqual(rows[2], ['db', 'down', '-', '-', '-', '-', 'no', '0', 'SIGTERM']);
    assert.equal(rows.length, 3);
  });

  test('columns line up: every cell starts where its header does', () => {
    const lines = formatStatusTable(services, false, NOW).trimEnd().split('\n');
    const header = lines[0]!;
    for (const col of ['STATE', 'PID', 'UPTIME', 'MEM', 'CPU', 'READY', 'RESTARTS', 'LAST EXIT']) {
      const at = header.indexOf(col);
      for (const row of lines.slice(1)) assert.notEqual(row[at - 1], undefined, `${col} in ${row}`);
      for (const row of lines.slice(1)) assert.match(row.slice(at - 2, at), /^ {2}$/, `${col} starts a column in ${JSON.stringify(row)}`);
    }
  });

  test('ends with one newline and no trailing spaces on any line', () => {
    const table = formatStatusTable(services, false, NOW);
    assert.ok(table.endsWith('\n') && !table.endsWith('\n\n'));
    for (const l of table.split('\n')) assert.equal(l, l.trimEnd());
  });

  test('no colour codes when color is false', () => {
    const crash = status({ name: 'bad', state: 'backoff', crashLoop: true, deaths: 6 });
    assert.doesNotMatch(formatStatusTable([...services, crash], false, NOW), ANSI);
  });

  test('colour on the state cell when color is true; the text is the same without it', () => {
    const table = formatStatusTable(services, true, NOW);
    assert.match(table, ANSI);
    assert.equal(table.replace(ANSI_ALL, ''), formatStatusTable(services, false, NOW));
    const [header, web, db] = table.split('\n');
    assert.doesNotMatch(header!, ANSI, 'the header is plain');
    assert.ok(web!.includes(`${sgr(32)}up   ${sgr(0)}`), `up is green, padded to STATE's width inside the colour: ${JSON.stringify(web)}`);
    assert.ok(db!.includes(`${sgr(2)}down ${sgr(0)}`), `down and wanted down is dim: ${JSON.stringify(db)}`);
  });

  test('state colours: red for a crash loop, a permanent failure or down against its goal; yellow in between', () => {
    const paint = (s: ServiceStatus): string => formatStatusTable([s], true, NOW).split('\n')[1]!;
    assertHas(paint(status({ name: 'a', state: 'backoff', crashLoop: true, deaths: 5 })), sgr(31));
    assertHas(paint(status({ name: 'a', state: 'down', goal: 'down', downReason: 'permanent-failure', pid: null })), sgr(31));
    assertHas(paint(status({ name: 'a', state: 'down', goal: 'up', downReason: 'exited', pid: null })), sgr(31));
    assertHas(paint(status({ name: 'a', state: 'starting', ready: false })), sgr(33));
  });

  test('invalid: red, and the note names the file, line and problem', () => {
    const s = status({ name: 'web', state: 'invalid', pid: null, uptimeMs: null, ready: false, problems: [{ file: '/s/web/timeout-kill', line: 1, message: 'expected a whole number of ms' }] });
    assertHas(formatStatusTable([s], true, NOW).split('\n')[1]!, sgr(31));
    const row = cells(formatStatusTable([s], false, NOW))[1]!;
    assert.equal(row[1], 'invalid');
    assert.equal(row.at(-1), '/s/web/timeout-kill:1: expected a whole number of ms');
  });

  test('backoff: the note says when the next start is', () => {
    const s = status({ name: 'flaky', state: 'backoff', pid: null, uptimeMs: null, ready: false, backoffUntil: new Date(NOW + 12_400).toISOString() });
    const row = cells(formatStatusTable([s], false, NOW))[1]!;
    assert.equal(row.at(-1), 'next start in 12s');
  });

  test('backoff already due: never a negative time', () => {
    const s = status({ name: 'flaky', state: 'backoff', pid: null, backoffUntil: new Date(NOW - 5000).toISOString() });
    assert.match(formatStatusTable([s], false, NOW), /next start in 0s/);
  });

  test('crash loop: the note counts the quick deaths, after the backoff note', () => {
    const s = status({
      name: 'crashy',
      state: 'backoff',
      pid: null,
      ready: false,
      deaths: 7,
      crashLoop: true,
      backoffUntil: new Date(NOW + 3_000).toISOString(),
      lastExit: { code: 1 },
    });
    const row = cells(formatStatusTable([s], false, NOW))[1]!;
    assert.equal(row.at(-1), 'next start in 3s; crash loop (7 quick deaths)');
  });

  test('a permanent failure and a goal that differs from the state are noted', () => {
    const perm = status({ name: 'p', state: 'down', goal: 'down', pid: null, downReason: 'permanent-failure' });
    const stopping = status({ name: 's', state: 'stopping', goal: 'down' });
    const table = formatStatusTable([perm, stopping], false, NOW);
    assert.match(table, /permanent failure \(finish exited 125\)/);
    assert.match(table, /wanted down/);
  });

  test('no services: the header alone', () => {
    assert.equal(formatStatusTable([], false, NOW), 'SERVICE  STATE  PID  UPTIME  MEM  CPU  READY  RESTARTS  LAST EXIT  NOTE\n');
  });
});
