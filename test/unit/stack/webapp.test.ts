import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createWebapp, type Webapp } from '../../../src/stack/webapp/app.js';
import { cookieValue, SessionStore } from '../../../src/stack/webapp/sessions.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, method: string, path: string, opts: { cookie?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: opts.cookie ? { cookie: opts.cookie } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('sessions', () => {
  test('the oldest sessions are evicted past the limit', () => {
    let n = 0;
    const store = new SessionStore(2, () => `s${++n}`);
    store.visit(undefined);
    store.visit(undefined);
    store.visit('s1'); // s1 is now the most recent
    store.visit(undefined);
    assert.equal(store.size, 2);
    assert.equal(store.visit('s1').session.views, 3, 's1 was kept');
    assert.equal(store.visit('s2').isNew, true, 's2 was evicted');
  });

  test('cookieValue finds one cookie among several', () => {
    assert.equal(cookieValue('a=1; NODESESSID=abc; SERVERID=x', 'NODESESSID'), 'abc');
    assert.equal(cookieValue('a=1', 'NODESESSID'), undefined);
    assert.equal(cookieValue(undefined, 'NODESESSID'), undefined);
  });
});

describe('webapp', () => {
  let app: Webapp;
  let port: number;

  before(async () => {
    app = createWebapp({ host: 'web1', ip: '10.0.0.11', tag: 'v1' });
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.stop(1000);
  });

  test('GET / answers who served it, sets NODESESSID, and counts the session’s views', async () => {
    const first = await call(port, 'GET', '/');
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-backend-ip'], '10.0.0.11');
    const body = JSON.parse(first.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['hello', 'host', 'id', 'ip', 'sessionViews', 'tag']);
    assert.equal(body.host, 'web1');
    assert.equal(body.sessionViews, 1);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    assert.equal(cookie, `NODESESSID=${String(body.id)}`);
    const second = JSON.parse((await call(port, 'GET', '/', { cookie })).body) as Record<string, unknown>;
    assert.equal(second.sessionViews, 2);
    assert.equal(second.id, body.id);
  });

  test('POST /delay sets the delay; a bad body is a 400', async () => {
    assert.equal((await call(port, 'POST', '/delay', { body: '120' })).status, 200);
    assert.equal(app.delayMs(), 120);
    const t0 = performance.now();
    await call(port, 'GET', '/');
    assert.ok(performance.now() - t0 >= 100, 'the answer waited');
    assert.equal((await call(port, 'POST', '/delay', { body: 'soon' })).status, 400);
    assert.equal((await call(port, 'POST', '/delay', { body: '0' })).status, 200);
  });

  test('stop() lets an in-flight request finish, then closes', async () => {
    const other = createWebapp({ host: 'web2', ip: '10.0.0.12', tag: '' });
    await new Promise<void>((resolve) => other.server.listen(0, '127.0.0.1', resolve));
    const p = (other.server.address() as AddressInfo).port;
    await call(p, 'POST', '/delay', { body: '300' });
    const inFlight = call(p, 'GET', '/');
    await new Promise((r) => setTimeout(r, 50));
    const stopped = other.stop(5000);
    const answer = await inFlight;
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.connection, 'close');
    assert.deepEqual(await stopped, { graceful: true, quietAfterMs: 0 });
    await assert.rejects(call(p, 'GET', '/'), /ECONNREFUSED/);
  });

  test('stop() with a quiet period keeps accepting until no request came for that long, then closes', async () => {
    const other = createWebapp({ host: 'web3', ip: '10.0.0.13', tag: '' });
    await new Promise<void>((resolve) => other.server.listen(0, '127.0.0.1', resolve));
    const p = (other.server.address() as AddressInfo).port;
    let resolved = false;
    const stopped = other.stop(5000, 200).then((r) => ((resolved = true), r));
    // The balancer has not taken the node out yet: new connections are still served, and closed.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const answer = await call(p, 'GET', '/');
      assert.equal(answer.status, 200, `request ${i} while leaving`);
      assert.equal(answer.headers.connection, 'close');
    }
    assert.equal(resolved, false, 'still leaving while requests keep coming');
    const result = await stopped;
    assert.equal(result.graceful, true);
    assert.ok(result.quietAfterMs >= 600, `closed ${result.quietAfterMs} ms after the stop, before 200 ms of quiet`);
    await assert.rejects(call(p, 'GET', '/'), /ECONNREFUSED/);
  });
});
