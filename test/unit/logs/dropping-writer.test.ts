import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { DroppingWriter } from '../../../src/adapters/dropping-writer.js';

/** A stream that holds every write until `release()`, like a pipe whose reader stopped. */
function stalledPipe() {
  const written: string[] = [];
  let pending: (() => void)[] = [];
  const out = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      pending.push(cb);
    },
  });
  const release = (): void => {
    const cbs = pending;
    pending = [];
    for (const cb of cbs) cb();
  };
  return { out, written, release };
}

const notice = (n: number): string => `dropped ${n}\n`;

// The timeout turns a writer that never drains (the loop below) into a failure, not a hang.
test('lines beyond the limit are dropped and counted, then announced once the reader catches up', { timeout: 10_000 }, async () => {
  const { out, written, release } = stalledPipe();
  const w = new DroppingWriter(out, 10, notice);
  w.write('one\n'); // 4 bytes in flight
  w.write('two two\n'); // 12 bytes queued: over the limit from now on
  assert.equal(w.write('three\n'), false);
  assert.equal(w.write('four\n'), false);
  assert.equal(w.write('five\n'), false);
  assert.equal(w.droppedLines, 3);
  // The reader drains everything; the next line brings the notice first.
  while (out.writableLength > 0) {
    release();
    await new Promise((r) => setImmediate(r));
  }
  w.write('six\n');
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(written, ['one\n', 'two two\n', 'dropped 3\n', 'six\n']);
  assert.equal(w.droppedLines, 0);
});

test('flush calls back only once everything queued is out', async () => {
  const { out, release } = stalledPipe();
  const w = new DroppingWriter(out, 1024, notice);
  w.write('a\n');
  w.write('b\n');
  let flushed = false;
  w.flush(() => (flushed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(flushed, false);
  for (let i = 0; i < 4 && !flushed; i++) {
    release();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(flushed, true);
});

test('flush on an empty queue calls back at once', () => {
  const { out } = stalledPipe();
  let flushed = false;
  new DroppingWriter(out, 1024, notice).flush(() => (flushed = true));
  assert.equal(flushed, true);
});
