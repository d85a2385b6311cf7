import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ControlServer, type RequestHandler } from '../../../src/adapters/control-server.js';
import { realSchedule } from '../../../src/daemon/edges.js';
import { waitUntil } from '../../../src/daemon/wait-until.js';

async function serve(t: TestContext, handle: RequestHandler): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-control-'));
  const path = join(dir, 'control.sock');
  const server = new ControlServer(path, handle, (err) => assert.fail(String(err)));
  await server.listen();
  t.after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return path;
}

const request = (cmd: object): string => `${JSON.stringify({ v: 1, ...cmd })}\n`;

/** Resolves when `signal` aborts (at once if it already has). */
const abortOf = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

// The timeout turns a regression (the abort never comes) into a failure, not a hang.
test('a client that goes away cancels its requests: a wait stops waiting; a connected client\'s does not', { timeout: 10_000 }, async (t) => {
  const received = new Map<string, (signal: AbortSignal) => void>();
  const signalOf = (id: string): Promise<AbortSignal> => new Promise((resolve) => received.set(id, resolve));
  const leaving = signalOf('leaving');
  const staying = signalOf('staying');
  const path = await serve(t, (request, cancel) => {
    received.get(String(request.id))?.(cancel);
    return new Promise(() => undefined); // a wait that would never end by itself
  });
  const wait = (id: string): string => request({ id, cmd: 'wait', condition: 'down', timeoutMs: 0, services: ['a'] });
  const stays = connect(path);
  t.after(() => stays.destroy());
  stays.on('connect', () => stays.write(wait('staying')));
  const leaves = connect(path);
  leaves.on('connect', () => leaves.write(wait('leaving')));
  const [left, kept] = await Promise.all([leaving, staying]);
  // Gone, not half-closed: a client that only shuts its write side still gets its reply.
  leaves.destroy();
  await abortOf(left);
  assert.equal(left.aborted, true);
  // The other client's wait goes on while it is connected, and is cancelled once it goes too.
  assert.equal(kept.aborted, false);
  stays.destroy();
  await abortOf(kept);
  assert.equal(kept.aborted, true);
});

// Each test that waits on a socket has a timeout: a server that never answers, closes or reads
// fails the test instead of hanging the suite.
const SOCKET_TEST = { timeout: 20_000 };

test('a client that shuts its write side after its request still gets the reply (nc -N, socat)', SOCKET_TEST, async (t) => {
  let cancelled = false;
  const path = await serve(t, async (_request, cancel) => {
    cancel.addEventListener('abort', () => (cancelled = true));
    // Answered well after the client's shutdown arrived, as a reload or a wait would be.
    await new Promise((r) => setTimeout(r, 300));
    return { ok: true, result: 'done' };
  });
  const { text, ended } = await new Promise<{ text: string; ended: boolean }>((resolve) => {
    const client = connect(path);
    let text = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (text += chunk));
    client.on('end', () => resolve({ text, ended: true }));
    client.on('error', () => resolve({ text, ended: false }));
    // The last line has no newline: the end of the stream ends it.
    client.on('connect', () => client.end(request({ cmd: 'reload' }) + JSON.stringify({ v: 1, id: 2, cmd: 'reload' })));
  });
  const replies = text.trim().split('\n').map((line) => JSON.parse(line) as { ok: boolean; id: unknown });
  assert.deepEqual(replies.map((r) => [r.ok, r.id]), [[true, null], [true, 2]]);
  assert.equal(ended, true, 'the server ends its side once it has answered');
  assert.equal(cancelled, false);
});

test('a request line over 64 KiB is refused even when its newline came in the same write', SOCKET_TEST, async (t) => {
  let answered = 0;
  const path = await serve(t, async () => {
    answered++;
    return { ok: true, result: null };
  });
  const line = `${JSON.stringify({ v: 1, cmd: 'status', services: ['x'.repeat(70_000)] })}\n`;
  const text = await new Promise<string>((resolve) => {
    const client = connect(path);
    let text = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (text += chunk));
    client.on('close', () => resolve(text));
    client.on('error', () => undefined);
    client.on('connect', () => client.write(line));
  });
  assert.equal(answered, 0);
  assert.equal((JSON.parse(text.split('\n')[0]!) as { error: { code: string } }).error.code, 'too-large');
});

test('a regular file at the socket path is left alone, and listen fails saying so', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'warden-control-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'control.sock');
  await writeFile(path, 'precious\n');
  const server = new ControlServer(path, async () => ({ ok: true, result: null }), () => undefined);
  await assert.rejects(server.listen(), /exists and is not a socket/);
  assert.equal(await readFile(path, 'utf8'), 'precious\n');
});

test('listening never changes the process umask: files written meanwhile keep their modes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'warden-control-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const server = new ControlServer(join(dir, 'control.sock'), async () => ({ ok: true, result: null }), () => undefined);
  t.after(() => server.close());
  const listening = server.listen();
  // Written on the threadpool while listen() is under way, as the container environment is at boot.
  const files = Array.from({ length: 32 }, (_, i) => join(dir, `env${i}`));
  await Promise.all([listening, ...files.map((f) => writeFile(f, 'x', { mode: 0o644 }))]);
  const umask = process.umask(0o022);
  process.umask(umask);
  for (const f of files) assert.equal((await stat(f)).mode & 0o777, 0o644 & ~umask, f);
  assert.equal((await stat(join(dir, 'control.sock'))).mode & 0o777, 0o600);
});

test('a client that does not read gets no more replies made past 1 MiB unread', SOCKET_TEST, async (t) => {
  let answered = 0;
  const big = 'y'.repeat(300_000);
  const path = await serve(t, async () => {
    answered++;
    return { ok: true, result: big };
  });
  const client = connect(path);
  client.on('error', () => undefined);
  t.after(() => client.destroy());
  await new Promise<void>((resolve) => client.on('connect', resolve));
  client.pause();
  client.write(request({ cmd: 'status', services: [] }).repeat(30));
  while (answered === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));
  // 1 MiB of its replies waiting, plus what the kernel's buffers took: far fewer than 30.
  assert.ok(answered <= 8, `${answered} replies of 300 KB made for a client that reads none`);
});

test('a client that sends without reading is not read from past 64 unanswered requests', SOCKET_TEST, async (t) => {
  let answered = 0;
  const path = await serve(t, () => {
    answered++;
    return new Promise(() => undefined); // never answered, as with a client's long waits
  });
  const client = connect(path);
  client.on('error', () => undefined); // the server closing at the end resets it
  t.after(() => client.destroy());
  await new Promise<void>((resolve) => client.on('connect', resolve));
  // 1.2 MB of requests: far more than the kernel's socket buffers hold.
  client.write(request({ cmd: 'status', services: [] }).repeat(25_000));
  // The first request reached the handler (however slow the machine), then the server had time
  // to read on if it were going to.
  while (answered === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));
  // Answered one after the other: one is being handled, the rest of what was read waits…
  assert.equal(answered, 1);
  // …and the server stopped reading, so most of it is still on the client's side.
  assert.ok(client.writableLength > 500_000, `only ${client.writableLength} bytes left unread`);
});

test('waitUntil: cancel resolves false and stops listening', async () => {
  let listeners = 0;
  const subscribe = (): (() => void) => {
    listeners++;
    return () => listeners--;
  };
  const abort = new AbortController();
  const waiting = waitUntil(realSchedule, subscribe, () => false, Infinity, abort.signal);
  assert.equal(listeners, 1);
  abort.abort();
  assert.equal(await waiting, false);
  assert.equal(listeners, 0);
});
