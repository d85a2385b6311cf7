import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRecords, LineSplitter, parseRecord, type LineSegment } from '../../../src/adapters/log-line.js';

const T = '2024-05-01T12:00:00.123Z';

function texts(segments: readonly LineSegment[]): string[] {
  return segments.map((s) => `${s.text.toString('utf8')}${s.continued ? '+' : ''}`);
}

function feed(splitter: LineSplitter, ...chunks: string[]): string[] {
  return chunks.flatMap((c) => texts(splitter.push(Buffer.from(c))));
}

describe('LineSplitter', () => {
  test('whole lines of one chunk come out in order, without their LF', () => {
    assert.deepEqual(feed(new LineSplitter(), 'a\nbb\n\nccc\n'), ['a', 'bb', '', 'ccc']);
  });

  test('a partial line waits for the chunk that ends it', () => {
    const s = new LineSplitter();
    assert.deepEqual(feed(s, 'hel'), []);
    assert.equal(s.pendingBytes, 3);
    assert.deepEqual(feed(s, 'lo wo'), []);
    assert.deepEqual(feed(s, 'rld\nnext'), ['hello world']);
    assert.equal(s.pendingBytes, 4);
  });

  test('CRLF keeps the CR in the text', () => {
    assert.deepEqual(feed(new LineSplitter(), 'dos\r\nunix\n'), ['dos\r', 'unix']);
  });

  test('a CR split from its LF across chunks is kept', () => {
    assert.deepEqual(feed(new LineSplitter(), 'dos\r', '\n'), ['dos\r']);
  });

  test('the final partial line is flushed at end', () => {
    const s = new LineSplitter();
    assert.deepEqual(feed(s, 'one\ntwo'), ['one']);
    assert.deepEqual(texts(s.end()), ['two']);
    assert.deepEqual(texts(s.end()), []);
  });

  test('end without a partial line gives nothing', () => {
    const s = new LineSplitter();
    feed(s, 'one\n');
    assert.deepEqual(s.end(), []);
  });

  test('a too-long line inside one chunk is cut into marked pieces, the last unmarked', () => {
    assert.deepEqual(feed(new LineSplitter(8), 'abcdefghijklmnopqrst\nz\n'), ['abcdefgh+', 'ijklmnop+', 'qrst', 'z']);
  });

  test('a too-long line without LF is not buffered past the limit', () => {
    const s = new LineSplitter(8);
    assert.deepEqual(feed(s, 'abcdef'), []);
    assert.deepEqual(feed(s, 'ghijklmnop'), ['abcdefgh+']);
    assert.equal(s.pendingBytes, 8);
    assert.deepEqual(feed(s, 'q'), ['ijklmnop+']);
    assert.deepEqual(feed(s, '\n'), ['q']);
  });

  test('a line of exactly the limit is one piece', () => {
    assert.deepEqual(feed(new LineSplitter(8), 'abcdefgh\n'), ['abcdefgh']);
  });

  test('pieces are cut at a UTF-8 character boundary', () => {
    // 'é' is 2 bytes: 7 ASCII + é would end at byte 9; the cut moves back before é.
    const segs = new LineSplitter(8).push(Buffer.from('abcdefgé-rest\n'));
    assert.deepEqual(texts(segs), ['abcdefg+', 'é-rest']);
    for (const s of segs) assert.ok(!s.text.toString('utf8').includes('\ufffd'));
  });

  test('the default limit splits a 200 KiB line in 64 KiB pieces that join back', () => {
    const line = 'x'.repeat(200 * 1024);
    const segs = new LineSplitter().push(Buffer.from(`${line}\n`));
    assert.deepEqual(
      segs.map((s) => [s.text.length, s.continued]),
      [
        [65536, true],
        [65536, true],
        [65536, true],
        [8192, false],
      ],
    );
    assert.equal(Buffer.concat(segs.map((s) => s.text)).toString(), line);
  });
});

describe('records', () => {
  test('formatRecords writes TIME MARK TEXT LF per segment, + on pieces', () => {
    const out = formatRecords(T, 'err', [
      { text: Buffer.from('abc'), continued: true },
      { text: Buffer.from('def\r'), continued: false },
      { text: Buffer.from(''), continued: false },
    ]);
    assert.equal(out.toString(), `${T} err+ abc\n${T} err def\r\n${T} err \n`);
  });

  test('parseRecord reads back what formatRecords wrote', () => {
    assert.deepEqual(parseRecord(`${T} out hello  world`), { time: T, stream: 'out', continued: false, line: 'hello  world' });
    assert.deepEqual(parseRecord(`${T} err+ piece`), { time: T, stream: 'err', continued: true, line: 'piece' });
    assert.deepEqual(parseRecord(`${T} out `), { time: T, stream: 'out', continued: false, line: '' });
  });

  test('parseRecord rejects lines that are not records', () => {
    assert.equal(parseRecord('garbage'), null);
    assert.equal(parseRecord(`${T} foo text`), null);
    assert.equal(parseRecord(''), null);
  });
});
