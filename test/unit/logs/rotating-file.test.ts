import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { archiveName, archiveTime, RotatingFile, sortedArchives, type LogLimits } from '../../../src/adapters/rotating-file.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'warden-rot-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function file(limits: LogLimits, now: () => number = () => Date.UTC(2024, 4, 1, 12, 0, 0, 0)): { f: RotatingFile; errors: unknown[] } {
  const errors: unknown[] = [];
  const f = new RotatingFile(join(root, 'svc'), { limits, now, lowWater: 1024, onError: (e) => errors.push(e), onDrain: () => undefined });
  return { f, errors };
}

function records(from: number, to: number): Buffer {
  let s = '';
  for (let i = from; i <= to; i++) s += `line ${String(i).padStart(4, '0')}\n`; // 10 bytes each
  return Buffer.from(s);
}

async function contents(): Promise<{ names: string[]; files: string[] }> {
  const names = (await readdir(join(root, 'svc'))).sort();
  const files = await Promise.all(names.map((n) => readFile(join(root, 'svc', n), 'utf8')));
  return { names, files };
}

describe('archive names', () => {
  test('archiveName is @UTC-basic-time.s and archiveTime reads it back', () => {
    const ms = Date.UTC(2024, 4, 1, 12, 3, 4, 56);
    assert.equal(archiveName(ms), '@20240501T120304.056Z.s');
    assert.equal(archiveTime('@20240501T120304.056Z.s'), ms);
    assert.equal(archiveTime('current'), null);
  });

  test('sortedArchives keeps archives only, oldest first', () => {
    assert.deepEqual(sortedArchives(['current', '@20240501T120304.056Z.s', 'x', '@20231231T235959.999Z.s']), [
      '@20231231T235959.999Z.s',
      '@20240501T120304.056Z.s',
    ]);
  });
});

describe('RotatingFile', () => {
  test('rotates before a record would pass maxBytes, never splitting a record', async () => {
    const { f, errors } = file({ maxBytes: 35, keep: 10 });
    f.write(records(1, 10));
    await f.close();
    const { names, files } = await contents();
    assert.equal(names.length, 4);
    assert.equal(names.at(-1), 'current');
    assert.deepEqual(files, [records(1, 3), records(4, 6), records(7, 9), records(10, 10)].map(String));
    assert.deepEqual(errors, []);
  });

  test('a file of exactly maxBytes is full: the next record starts a new file', async () => {
    const { f } = file({ maxBytes: 20, keep: 10 });
    f.write(records(1, 2));
    await f.flush();
    f.write(records(3, 3));
    await f.close();
    const { files } = await contents();
    assert.deepEqual(files, [records(1, 2), records(3, 3)].map(String));
  });

  test('archive names strictly increase even when the clock stands still', async () => {
    const { f } = file({ maxBytes: 10, keep: 10 });
    f.write(records(1, 4));
    await f.close();
    const { names } = await contents();
    assert.deepEqual(names, ['@20240501T120000.000Z.s', '@20240501T120000.001Z.s', '@20240501T120000.002Z.s', 'current']);
  });

  test('only the newest `keep` archives are kept', async () => {
    const { f } = file({ maxBytes: 10, keep: 2 });
    f.write(records(1, 6));
    await f.close();
    const { names, files } = await contents();
    assert.equal(names.length, 3);
    assert.deepEqual(files, [records(4, 4), records(5, 5), records(6, 6)].map(String));
  });

  test('keep 0: rotation drops the old file', async () => {
    const { f } = file({ maxBytes: 10, keep: 0 });
    f.write(records(1, 3));
    await f.close();
    const { names, files } = await contents();
    assert.deepEqual(names, ['current']);
    assert.deepEqual(files, [String(records(3, 3))]);
  });

  test('a record bigger than maxBytes gets a file of its own', async () => {
    const { f } = file({ maxBytes: 15, keep: 10 });
    f.write(Buffer.from(`short\n${'L'.repeat(40)}\nend\n`));
    await f.close();
    const { files } = await contents();
    assert.deepEqual(files, ['short\n', `${'L'.repeat(40)}\n`, 'end\n']);
  });

  test('appends to an existing current and continues after existing archives', async () => {
    await mkdir(join(root, 'svc'));
    await writeFile(join(root, 'svc', '@20300101T000000.000Z.s'), 'old\n');
    await writeFile(join(root, 'svc', 'current'), 'before\n');
    const { f } = file({ maxBytes: 10, keep: 10 }); // clock (2024) is behind the 2030 archive
    f.write(Buffer.from('after\n'));
    await f.close();
    const { names, files } = await contents();
    assert.deepEqual(names, ['@20300101T000000.000Z.s', '@20300101T000000.001Z.s', 'current']);
    assert.deepEqual(files, ['old\n', 'before\n', 'after\n']);
  });

  test('pendingBytes counts what is not yet written, and is 0 after flush', async () => {
    const { f } = file({ maxBytes: 1 << 20, keep: 1 });
    f.write(records(1, 100));
    assert.equal(f.pendingBytes, 1000);
    await f.flush();
    assert.equal(f.pendingBytes, 0);
    await f.close();
  });

  test('a failing dir reports one error, drops the batch, and keeps accepting writes', async () => {
    await writeFile(join(root, 'svc'), 'a file where the dir should be');
    const { f, errors } = file({ maxBytes: 100, keep: 1 });
    f.write(records(1, 2));
    await f.flush();
    f.write(records(3, 4));
    await f.flush();
    assert.equal(errors.length, 1);
    assert.equal(f.pendingBytes, 0);
    await f.close();
  });
});
