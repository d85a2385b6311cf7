import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ControlServer, type RequestHandler } from '../../../src/adapters/control-server.js';
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

test("a client that goes away cancels its requests: a wait stops waiting", async (t) => {
  let aborted: () => void = () => undefined;
  const cancelled = new Promise<void>((resolve) => (aborted = resolve));
  const path = await serve(t, (_request, cancel) => {
    cancel.addEventListener('abort', () => aborted());
    return new Promise(() => undefined); // a wait that would never end by itself
  });
  const client = connect(path);
  client.on('connect', () => client.end(request({ cmd: 'wait', condition: 'down', timeoutMs: 0, services: ['a'] })));
  await cancelled;
});

test('a client that sends without reading is not read from past 64 unanswered requests', async (t) => {
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
  const waiting = waitUntil(subscribe, () => false, Infinity, abort.signal);
  assert.equal(listeners, 1);
  abort.abort();
  assert.equal(await waiting, false);
  assert.equal(listeners, 0);
});
