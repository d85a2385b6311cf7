/**
 * The Serf handler's passes against a real HAProxy (master-worker, the shipped templates, its
 * runtime API and master CLI on sockets in the test's own dir, everything on 127.0.0.1): each
 * kind of pass must leave HAProxy's servers as the pass meant, read back from HAProxy itself
 * (`show servers state`, `show stat`) and from requests through its frontend. The membership is
 * the one edge given by the test (it stands for Serf); the servers are real HTTP listeners.
 *
 * No wall-clock bound: every wait ends on what HAProxy or the servers show, and fails at once if
 * HAProxy exits; the drain timeout of the passes that wait for sessions is far beyond any run.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, get, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTemplates, type Templates } from '../../src/stack/haproxy/render.js';
import { RuntimeApi } from '../../src/stack/haproxy/runtime-api.js';
import { ADMIN_FORCED_MAINT, type RuntimeServer } from '../../src/stack/haproxy/runtime-state.js';
import { haproxySettings, type HaproxySettings } from '../../src/stack/haproxy/settings.js';
import { validateConfig } from '../../src/stack/haproxy/validate.js';
import type { SerfMember } from '../../src/stack/serf-handler/members.js';
import { Reconciler, type ReconcileEdges, type ReconcileOutcome } from '../../src/stack/serf-handler/reconcile.js';
import type { Strategy } from '../../src/stack/serf-handler/strategy.js';
import { freePort } from './harness.js';

const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
/** Far beyond any run: a drain here ends when the sessions close, never by the timeout. */
const NEVER_MS = 3_600_000;

/** A webapp stand-in on 127.0.0.1: answers its name; `/hold` is answered only when released. */
class Backend {
  private constructor(
    readonly name: string,
    readonly server: HttpServer,
    readonly port: number,
    /** Requests to `/hold`, not answered yet. */
    readonly held: ServerResponse[],
  ) {}

  static async start(name: string): Promise<Backend> {
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end(name);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Backend(name, server, (server.address() as AddressInfo).port, held);
  }

  member(status = 'alive'): SerfMember {
    return { name: this.name, address: '127.0.0.1', status, tags: { role: 'backend', port: String(this.port) } };
  }

  release(): void {
    for (const res of this.held.splice(0)) res.end(`${this.name} released`);
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One GET through HAProxy's frontend, on a connection of its own: the answer's body. */
function request(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', reject);
  });
}

describe('reconcile against a real HAProxy: each kind of pass leaves its servers as meant', { skip: HAPROXY === undefined && 'haproxy is not installed (scripts/install-stack-deps.sh)', timeout: 600_000 }, () => {
  let dir: string;
  let settings: HaproxySettings;
  let httpPort: number;
  let api: RuntimeApi;
  let haproxy: ChildProcess | null = null;
  let members: SerfMember[] | Error = new Error('serf not started yet');
  let templates: Templates = loadTemplates();
  const logs: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const backends = new Map<string, Backend>();
  let edges: ReconcileEdges;
  let watch: Reconciler;

  /** Polls until `condition` holds; fails only if HAProxy, which the wait is about, has exited. */
  async function until<T>(what: string, condition: () => Promise<T | null | undefined | false>): Promise<T> {
    for (;;) {
      const value = await condition();
      if (value !== null && value !== undefined && value !== false) return value;
      if (haproxy === null || haproxy.exitCode !== null || haproxy.signalCode !== null) throw new Error(`haproxy exited while waiting for ${what}`);
      await sleep(50);
    }
  }

  /** The haproxy service's start: `main.js render`, then `haproxy -Ws -S …` until its worker answers. */
  async function startHaproxy(): Promise<number> {
    const render = await new Reconciler(settings, { kind: 'render', then: 'runtime-api' }, edges).pass();
    assert.ok(render.kind === 'rendered' || render.kind === 'kept', JSON.stringify(render));
    const child = spawn(HAPROXY!, ['-Ws', '-S', `${settings.masterSocket},mode,600`, '-f', settings.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    child.once('exit', (code, signal) => {
      if (haproxy === child) logs.push({ level: 'haproxy', fields: { code, signal, stderr } });
    });
    haproxy = child;
    return until('the worker on the admin socket', () => api.workerPid());
  }

  async function killHaproxy(): Promise<void> {
    const child = haproxy;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    // The worker follows its master out; it may hold the admin socket for a moment.
    for (;;) {
      if ((await api.workerPid()) === null) break;
      await sleep(50);
    }
    haproxy = null;
  }

  const state = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const s of await api.serversState(settings.backend)) out[s.name] = row(s);
    return out;
  };
  const row = (s: RuntimeServer): string => `${s.address}:${s.port} ${(s.adminState & ADMIN_FORCED_MAINT) !== 0 ? 'maint' : 'ready'}`;
  const sessions = async (name: string): Promise<number> => (await api.stat()).find((r) => r.proxy === settings.backend && r.server === name)?.current ?? -1;
  const wanted = (...names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, `127.0.0.1:${backends.get(n)!.port} ready`]));
  /** The backend that holds `request`'s `/hold`; fails if the request was answered instead. */
  const holderOf = async (request: Promise<string>): Promise<Backend> => {
    let answered: string | null = null;
    void request.then((a) => (answered = a), (err: Error) => (answered = err.message));
    return until('a held request', async () => {
      if (answered !== null) throw new Error(`the request to hold was answered: ${answered}`);
      return [...backends.values()].find((b) => b.held.length > 0);
    });
  };
  const applied = (outcome: ReconcileOutcome) => {
    assert.equal(outcome.kind, 'applied', JSON.stringify(outcome));
    return outcome as Extract<ReconcileOutcome, { kind: 'applied' }>;
  };
  /** Requests through the frontend until every one of `names` has answered (round robin over them). */
  const servedBy = async (names: string[]): Promise<void> => {
    const seen = new Set<string>();
    await until(`answers from ${names.join(', ')}`, async () => {
      const answer = await request(httpPort);
      const from = answer.replace(/^200 /, '');
      assert.ok(answer.startsWith('200 ') && names.includes(from), `answer "${answer}" is from one of ${names.join(', ')}`);
      seen.add(from);
      return seen.size === names.length;
    });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-stack-reconcile-'));
    httpPort = await freePort();
    settings = haproxySettings({
      STACK_RUN_DIR: dir,
      HAPROXY_HTTP_BIND: `127.0.0.1:${httpPort}`,
      HAPROXY_STATS_BIND: `127.0.0.1:${await freePort()}`,
      HAPROXY_BIN: HAPROXY,
    });
    api = new RuntimeApi(settings.adminSocket, settings.masterSocket);
    const log = (level: string) => (fields: object) => logs.push({ level, fields: fields as Record<string, unknown> });
    edges = {
      members: async () => {
        if (members instanceof Error) throw members;
        return members;
      },
      templates: () => templates,
      validate: (file) => validateConfig(file, HAPROXY),
      api,
      now: () => performance.now(),
      sleep: (ms) => sleep(ms),
      log: { info: log('info'), warn: log('warn'), error: log('error') },
    };
    watch = new Reconciler(settings, { kind: 'runtime-api', drainTimeoutMs: NEVER_MS } satisfies Strategy, edges);
    for (const name of ['web1', 'web2', 'web3', 'web4']) backends.set(name, await Backend.start(name));
  });

  after(async () => {
    try {
      await killHaproxy();
      for (const b of backends.values()) await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('render: Serf not up yet, HAProxy starts from a file without servers', async () => {
    await startHaproxy();
    assert.deepEqual(await state(), {});
    assert.match(await request(httpPort), /^503 /, 'no server to send to');
  });

  test('join: two members become two servers in rotation, answering through the frontend', async () => {
    members = [backends.get('web1')!.member(), backends.get('web2')!.member()];
    const outcome = applied(await watch.pass());
    assert.deepEqual([...outcome.actions].sort(), [`add web1 127.0.0.1:${backends.get('web1')!.port}`, `add web2 127.0.0.1:${backends.get('web2')!.port}`]);
    assert.equal(outcome.failed, 0);
    assert.deepEqual(await state(), wanted('web1', 'web2'));
    await servedBy(['web1', 'web2']);
    assert.deepEqual(applied(await watch.pass()).actions, [], 'a second pass finds nothing to do');
  });

  test('leave: out of rotation at once, deleted by the pass after its last session closed', async () => {
    // A request held by whichever server HAProxy picks: that one leaves.
    const held = request(httpPort, '/hold');
    const leaver = await holderOf(held);
    const stayer = leaver.name === 'web1' ? 'web2' : 'web1';
    members = [backends.get(stayer)!.member(), leaver.member('leaving')];
    let outcome = applied(await watch.pass());
    assert.deepEqual(outcome.actions, [`out of rotation ${leaver.name}, draining`]);
    assert.deepEqual(await state(), { ...wanted(stayer), [leaver.name]: `127.0.0.1:${leaver.port} maint` });
    assert.equal(await sessions(leaver.name), 1, 'its in-flight request is still on it');
    await servedBy([stayer]);
    leaver.release();
    assert.equal(await held, `200 ${leaver.name} released`, 'the in-flight request finished');
    outcome = await until('the deletion', async () => {
      const o = applied(await watch.pass());
      return o.actions.length > 0 && o;
    });
    assert.deepEqual(outcome.actions, [`deleted ${leaver.name}`]);
    assert.deepEqual(outcome.draining, []);
    assert.deepEqual(await state(), wanted(stayer));
    assert.equal(logs.filter((l) => l.fields.event === 'drain-timeout').length, 0);
    members = [backends.get('web1')!.member(), backends.get('web2')!.member()];
    applied(await watch.pass());
    assert.deepEqual(await state(), wanted('web1', 'web2'), 'it joins again');
  });

  test('fail: a failed member without sessions is out of rotation and deleted in one pass', async () => {
    members = [backends.get('web1')!.member(), backends.get('web2')!.member('failed')];
    assert.deepEqual(applied(await watch.pass()).actions, ['out of rotation and deleted web2']);
    assert.deepEqual(await state(), wanted('web1'));
    await servedBy(['web1']);
  });

  test('burst: joins, a failure and a moved server in one pass', async () => {
    const web3 = backends.get('web3')!;
    members = [backends.get('web1')!.member(), backends.get('web2')!.member(), web3.member(), backends.get('web4')!.member()];
    applied(await watch.pass());
    assert.deepEqual(await state(), wanted('web1', 'web2', 'web3', 'web4'));
    // web3 comes back on another port (a new listener), web4 fails, web1 is unchanged.
    const moved = await Backend.start('web3');
    backends.set('web3', moved);
    await web3.close();
    members = [backends.get('web1')!.member(), backends.get('web2')!.member(), moved.member(), backends.get('web4')!.member('failed')];
    const outcome = applied(await watch.pass());
    assert.deepEqual(outcome.actions, ['remove web3 (moved)', `add web3 127.0.0.1:${moved.port}`, 'out of rotation and deleted web4']);
    assert.deepEqual(await state(), wanted('web1', 'web2', 'web3'));
    await servedBy(['web1', 'web2', 'web3']);
  });

  test('reload: a change outside the servers is a master-worker reload; the new worker has the same servers', async () => {
    const oldWorker = await api.workerPid();
    templates = { ...templates, config: templates.config.replace('timeout client 30s', 'timeout client 31s') };
    assert.deepEqual(await watch.pass(), { kind: 'reloaded', servers: ['web1', 'web2', 'web3'] });
    const newWorker = await api.workerPid();
    assert.ok(newWorker !== null && newWorker !== oldWorker, `a new worker answers (${oldWorker} → ${newWorker})`);
    assert.deepEqual(await state(), wanted('web1', 'web2', 'web3'));
    assert.deepEqual(applied(await watch.pass()).actions, []);
    await servedBy(['web1', 'web2', 'web3']);
  });

  test('HAProxy restart: while it is gone a pass says not-running and writes the file; it starts with every server', async () => {
    await killHaproxy();
    members = [backends.get('web1')!.member(), backends.get('web2')!.member(), backends.get('web3')!.member(), backends.get('web4')!.member()];
    assert.deepEqual(await watch.pass(), { kind: 'not-running', servers: ['web1', 'web2', 'web3', 'web4'] });
    assert.match(readFileSync(settings.configPath, 'utf8'), /^\s+server web4 127\.0\.0\.1:/m);
    await startHaproxy();
    assert.deepEqual(applied(await watch.pass()).actions, [], 'nothing left to add');
    assert.deepEqual(await state(), wanted('web1', 'web2', 'web3', 'web4'));
    await servedBy(['web1', 'web2', 'web3', 'web4']);
  });

  test('drain timeout: sessions still open are cut with shutdown sessions, then the server is deleted', async () => {
    const impatient = new Reconciler(settings, { kind: 'runtime-api', drainTimeoutMs: 0 }, edges);
    const held = request(httpPort, '/hold');
    const holder = await holderOf(held);
    members = [...backends.values()].filter((b) => b !== holder).map((b) => b.member());
    // `del server` may refuse while the cut sessions are torn down: the next pass deletes it.
    await until(`${holder.name} deleted`, async () => {
      await impatient.pass();
      return !(holder.name in (await state()));
    });
    assert.deepEqual(
      logs.filter((l) => l.fields.event === 'drain-timeout').map((l) => [l.fields.server, l.fields.sessions]),
      [[holder.name, 1]],
    );
    // The cut request is retried on another server (retry-on, redispatch), which holds it too.
    const other = await until('the retried request', async () => [...backends.values()].find((b) => b !== holder && b.held.length > 0));
    other.release();
    assert.equal(await held, `200 ${other.name} released`);
  });
});
