import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { LogFollower, mergeByTime, parseSince, readLogs, servicesWithLogs, SinceError, type LogEntry } from '../../../src/cli/log-reader.js';
import { formatEntry } from '../../../src/cli/logs-command.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0, 0);

function entry(service: string, sec: number, line: string, stream: 'out' | 'err' = 'out'): LogEntry {
  return { time: new Date(NOW + sec * 1000).toISOString(), service, stream, continued: false, line };
}

function rec(sec: number, line: string, stream = 'out'): string {
  return `${new Date(NOW + sec * 1000).toISOString()} ${stream} ${line}\n`;
}

describe('parseSince', () => {
  const cases: readonly [string, number][] = [
    ['10s', NOW - 10_000],
    ['5m', NOW - 300_000],
    ['1h', NOW - 3_600_000],
    ['2d', NOW - 172_800_000],
    ['250ms', NOW - 250],
    ['1.5s', NOW - 1500],
    ['2024-04-30T10:00:00Z', Date.UTC(2024, 3, 30, 10)],
    ['2024-04-30T10:00:00.500Z', Date.UTC(2024, 3, 30, 10, 0, 0, 500)],
    ['2024-04-30T12:00:00+02:00', Date.UTC(2024, 3, 30, 10)],
    ['2024-04-30', Date.UTC(2024, 3, 30)],
  ];
  for (const [text, want] of cases) test(`${text} → ${new Date(want).toISOString()}`, () => assert.equal(parseSince(text, NOW), want));

  for (const bad of ['', '10', '5x', 'yesterday', '2024-04-30T10:00', '-5m'])
    test(`${JSON.stringify(bad)} is rejected with a SinceError`, () => assert.throws(() => parseSince(bad, NOW), SinceError));
});

describe('mergeByTime', () => {
  test('interleaves lists by time', () => {
    const a = [entry('a', 1, 'a1'), entry('a', 3, 'a3'), entry('a', 5, 'a5')];
    const b = [entry('b', 2, 'b2'), entry('b', 4, 'b4')];
    assert.deepEqual(
      mergeByTime([a, b]).map((e) => e.line),
      ['a1', 'b2', 'a3', 'b4', 'a5'],
    );
  });

  test('equal times keep list order, then file order', () => {
    const a = [entry('a', 1, 'a1'), entry('a', 1, 'a1b')];
    const b = [entry('b', 1, 'b1'), entry('b', 0, 'b0-late-clock')];
    assert.deepEqual(
      mergeByTime([a, b]).map((e) => e.line),
      ['a1', 'a1b', 'b1', 'b0-late-clock'],
    );
  });

  test('empty lists merge to nothing', () => {
    assert.deepEqual(mergeByTime([[], []]), []);
  });
});

describe('reading log dirs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-reader-'));
    await mkdir(join(dir, 'web'));
    await mkdir(join(dir, 'db'));
    await mkdir(join(dir, 'empty'));
    await writeFile(join(dir, 'web', '@20240501T115900.000Z.s'), rec(-70, 'w1') + rec(-65, 'w2'));
    await writeFile(join(dir, 'web', '@20240501T120000.000Z.s'), rec(-50, 'w3') + rec(-30, 'w4', 'err'));
    await writeFile(join(dir, 'web', 'current'), rec(-10, 'w5') + rec(-1, 'w6'));
    await writeFile(join(dir, 'db', 'current'), rec(-60, 'd1') + 'not a record\n' + rec(-20, 'd2') + rec(-1, 'd3'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('servicesWithLogs lists dirs with a current or an archive', async () => {
    assert.deepEqual(await servicesWithLogs(dir), ['db', 'web']);
    assert.deepEqual(await servicesWithLogs(join(dir, 'missing')), []);
  });

  test('the last N lines in all, merged in time order, reaching into archives', async () => {
    const got = await readLogs(dir, ['db', 'web'], { lines: 6 });
    assert.deepEqual(
      got.map((e) => `${e.service}:${e.line}`),
      ['web:w3', 'web:w4', 'db:d2', 'web:w5', 'db:d3', 'web:w6'],
    );
    assert.equal(got[1]!.stream, 'err');
  });

  test('everything when no limit is given; lines that are not records are skipped', async () => {
    const got = await readLogs(dir, ['web', 'db']);
    assert.equal(got.length, 9);
    assert.deepEqual(got.slice(0, 3).map((e) => e.line), ['w1', 'w2', 'd1']);
  });

  test('--since keeps lines at or after the time, across archives', async () => {
    const got = await readLogs(dir, ['web', 'db'], { sinceMs: NOW - 50_000 });
    assert.deepEqual(got.map((e) => e.line), ['w3', 'w4', 'd2', 'w5', 'w6', 'd3']);
  });

  test('--since and -n together: the last N of those since', async () => {
    const got = await readLogs(dir, ['web', 'db'], { sinceMs: NOW - 50_000, lines: 2 });
    assert.deepEqual(got.map((e) => e.line), ['w6', 'd3']);
  });

  test('-n 0 prints nothing', async () => {
    assert.deepEqual(await readLogs(dir, ['web'], { lines: 0 }), []);
  });

  test('text and JSON output forms', () => {
    assert.equal(formatEntry(entry('web', 0, 'hi'), false), '2024-05-01T12:00:00.000Z web | hi\n');
    assert.equal(formatEntry(entry('web', 0, 'oops', 'err'), false), '2024-05-01T12:00:00.000Z web ! oops\n');
    assert.deepEqual(JSON.parse(formatEntry(entry('web', 0, 'hi'), true)), { time: '2024-05-01T12:00:00.000Z', service: 'web', stream: 'out', line: 'hi' });
  });

  test('a follower sees appends, a rename plus new current, and a truncation', async () => {
    const follower = await LogFollower.open(dir, ['web'], { pollMs: 50 });
    const seen: string[] = [];
    await follower.start((entries) => seen.push(...entries.map((e) => e.line)));
    try {
      await appendFile(join(dir, 'web', 'current'), rec(1, 'f1'));
      await waitFor(() => seen.length === 1);
      await appendFile(join(dir, 'web', 'current'), rec(2, 'f2'));
      await rename(join(dir, 'web', 'current'), join(dir, 'web', '@20240501T120005.000Z.s'));
      await writeFile(join(dir, 'web', 'current'), rec(3, 'f3'));
      await waitFor(() => seen.length === 3);
      // Same inode, shorter than what was read: truncation (a refill to the old size or more
      // between two looks cannot be told from appends: a known limit of following by size).
      await writeFile(join(dir, 'web', 'current'), rec(4, 't'));
      await waitFor(() => seen.length === 4);
      assert.deepEqual(seen, ['f1', 'f2', 'f3', 't']);
    } finally {
      await follower.close();
    }
  });

  test('a half-written record is held back until its LF arrives', async () => {
    const follower = await LogFollower.open(dir, ['db'], { pollMs: 20 });
    const seen: string[] = [];
    await follower.start((entries) => seen.push(...entries.map((e) => e.line)));
    try {
      const whole = rec(1, 'split-record');
      await appendFile(join(dir, 'db', 'current'), whole.slice(0, 30));
      await sleep(150);
      assert.deepEqual(seen, []);
      await appendFile(join(dir, 'db', 'current'), whole.slice(30));
      await waitFor(() => seen.length === 1);
      assert.deepEqual(seen, ['split-record']);
    } finally {
      await follower.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}
