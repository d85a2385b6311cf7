import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { logDir, ServiceLogs } from '../../../src/adapters/service-logs.js';
import type { ConsoleFormat } from '../../../src/core/service-spec.js';

const T = '2024-05-01T12:00:00.000Z';
const now = (): number => Date.parse(T);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-slogs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

function setup(consoleFormat: ConsoleFormat, extra: { highWaterBytes?: number; maxBytes?: number } = {}) {
  const sink = new Sink();
  const errors: [string, unknown][] = [];
  const logs = new ServiceLogs(
    { dir, console: consoleFormat, defaultMaxBytes: extra.maxBytes ?? 1 << 20, defaultKeep: 10, consoleStream: sink, now, highWaterBytes: extra.highWaterBytes },
    (s, e) => errors.push([s, e]),
  );
  return { sink, errors, logs };
}

describe('ServiceLogs', () => {
  test('logDir: WARDEN_LOG_DIR, else /var/log/warden', () => {
    assert.equal(logDir({ WARDEN_LOG_DIR: '/x' }), '/x');
    assert.equal(logDir({}), '/var/log/warden');
  });

  test('stdout and stderr lines go to DIR/NAME/current, marked out and err', async () => {
    const { logs, errors } = setup('none');
    const out = new PassThrough();
    const err = new PassThrough();
    logs.attach('web', out, err);
    out.write('hello\nwor');
    err.write('oops\n');
    out.end('ld');
    err.end();
    await sleep(20);
    await logs.close();
    assert.equal(await readFile(join(dir, 'web', 'current'), 'utf8'), `${T} out hello\n${T} err oops\n${T} out world\n`);
    assert.deepEqual(errors, []);
  });

  test('prefix console: NAME | for stdout, NAME ! for stderr', async () => {
    const { logs, sink } = setup('prefix');
    const out = new PassThrough();
    const err = new PassThrough();
    logs.attach('web', out, err);
    out.end('a\r\nb\n');
    await sleep(10);
    err.end('c\n');
    await sleep(10);
    await logs.close();
    assert.equal(sink.text, 'web | a\r\nweb | b\nweb ! c\n');
  });

  test('json console: one {"time","service","stream","line"} object per line', async () => {
    const { logs, sink } = setup('json');
    const out = new PassThrough();
    const err = new PassThrough();
    logs.attach('db', out, err);
    err.end('x "quoted"\n');
    await sleep(10);
    await logs.close();
    assert.deepEqual(JSON.parse(sink.text), { time: T, service: 'db', stream: 'err', line: 'x "quoted"' });
  });

  test('none: nothing on the console, the file still gets the lines', async () => {
    const { logs, sink } = setup('none');
    const out = new PassThrough();
    logs.attach('q', out, new PassThrough());
    out.end('quiet\n');
    await sleep(10);
    await logs.close();
    assert.equal(sink.text, '');
    assert.match(await readFile(join(dir, 'q', 'current'), 'utf8'), /quiet/);
  });

  test('a second attach (restart) appends to the same file', async () => {
    const { logs } = setup('none');
    for (const run of ['first', 'second']) {
      const out = new PassThrough();
      logs.attach('svc', out, new PassThrough());
      out.end(`${run}\n`);
      await sleep(10);
    }
    await logs.close();
    assert.equal(await readFile(join(dir, 'svc', 'current'), 'utf8'), `${T} out first\n${T} out second\n`);
  });

  test('close flushes the partial line of a pipe that is still open', async () => {
    const { logs } = setup('none');
    const out = new PassThrough();
    logs.attach('svc', out, new PassThrough());
    out.write('no newline yet');
    await sleep(10);
    await logs.close();
    assert.equal(await readFile(join(dir, 'svc', 'current'), 'utf8'), `${T} out no newline yet\n`);
  });

  test('per-service limits apply: small maxBytes rotates', async () => {
    const { logs } = setup('none');
    const out = new PassThrough();
    logs.attach('svc', out, new PassThrough(), { maxBytes: 100, keep: 3 });
    for (let i = 0; i < 20; i++) out.write(`line ${i}\n`);
    out.end();
    await sleep(20);
    await logs.close();
    const names = (await readdir(join(dir, 'svc'))).sort();
    assert.equal(names.length, 4); // 3 archives + current
  });

  test('a lagging file pauses the service pipes and resumes them, losing nothing', async () => {
    const { logs } = setup('none', { highWaterBytes: 4096 });
    const out = new PassThrough();
    logs.attach('svc', out, new PassThrough());
    let sawPause = false;
    const total = 20_000;
    for (let i = 1; i <= total; i++) {
      const ok = out.write(`${i}\n`);
      if (out.isPaused()) sawPause = true;
      if (!ok) await new Promise((r) => out.once('drain', r));
    }
    out.end();
    await new Promise((r) => out.once('close', r));
    await logs.close();
    assert.ok(sawPause, 'the pipe was paused at least once');
    const lines = (await readFile(join(dir, 'svc', 'current'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, total);
    lines.forEach((l, i) => assert.equal(l, `${T} out ${i + 1}`));
  });

  test('attach after close throws', async () => {
    const { logs } = setup('none');
    await logs.close();
    assert.throws(() => logs.attach('x', new PassThrough(), new PassThrough()));
  });
});
