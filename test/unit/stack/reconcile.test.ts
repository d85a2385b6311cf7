/**
 * The Serf handler's passes in virtual time: the membership, the templates, HAProxy's check and
 * its runtime API are edges the test drives (virtual-haproxy.ts answers the runtime API as
 * HAProxy 2.6 does), the clock moves only when the pass sleeps or the test says so. The run
 * dir's files are real, in a temp dir.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { loadTemplates, renderServerArgs, type Templates } from '../../../src/stack/haproxy/render.js';
import { RuntimeApi } from '../../../src/stack/haproxy/runtime-api.js';
import { haproxySettings, type HaproxySettings } from '../../../src/stack/haproxy/settings.js';
import type { SerfMember } from '../../../src/stack/serf-handler/members.js';
import { ReconcileError, Reconciler, type ReconcileEdges, type ReconcileOutcome } from '../../../src/stack/serf-handler/reconcile.js';
import type { Strategy } from '../../../src/stack/serf-handler/strategy.js';
import { VirtualHaproxy } from './virtual-haproxy.js';

const DRAIN_MS = 5000;
const shipped = loadTemplates();

/** A Serf member of the backend role (or another status, or another role). */
const member = (name: string, address: string, status = 'alive', port?: number): SerfMember => ({
  name,
  address,
  status,
  tags: { role: 'backend', ...(port === undefined ? {} : { port: String(port) }) },
});

interface World {
  dir: string;
  settings: HaproxySettings;
  haproxy: VirtualHaproxy;
  /** Virtual milliseconds. */
  t: number;
  members: SerfMember[] | Error;
  templates: Templates;
  templateReads: number;
  checked: string[];
  checkFails: string | null;
  logs: Array<{ level: string; fields: Record<string, unknown> }>;
  edges: ReconcileEdges;
}

let w: World;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-reconcile-'));
  const settings = haproxySettings({ STACK_RUN_DIR: dir, HAPROXY_HTTP_BIND: '127.0.0.1:8080', HAPROXY_STATS_BIND: '127.0.0.1:8081' });
  const world: Partial<World> = { dir, settings, t: 0, members: [], templates: shipped, templateReads: 0, checked: [], checkFails: null, logs: [] };
  const haproxy = new VirtualHaproxy(settings.backend, () => world.t!, settings.configPath);
  const log = (level: string) => (fields: object) => world.logs!.push({ level, fields: fields as Record<string, unknown> });
  world.haproxy = haproxy;
  world.edges = {
    members: async () => {
      if (world.members instanceof Error) throw world.members;
      return world.members!;
    },
    templates: () => {
      world.templateReads!++;
      return world.templates!;
    },
    validate: async (file) => {
      world.checked!.push(readFileSync(file, 'utf8'));
      if (world.checkFails !== null) throw new Error(world.checkFails);
    },
    api: new RuntimeApi(settings.adminSocket, settings.masterSocket, haproxy.transport),
    now: () => world.t!,
    sleep: async (ms) => {
      world.t! += ms;
    },
    log: { info: log('info'), warn: log('warn'), error: log('error') },
  };
  w = world as World;
});
afterEach(() => rmSync(w.dir, { recursive: true, force: true }));

const runtime: Strategy = { kind: 'runtime-api', drainTimeoutMs: DRAIN_MS };

/** The haproxy service's start: `main.js render`, then HAProxy reads the file. */
async function boot(): Promise<Reconciler> {
  const outcome = await new Reconciler(w.settings, { kind: 'render', then: 'runtime-api' }, w.edges).pass();
  assert.equal(outcome.kind, 'rendered');
  w.haproxy.start();
  return new Reconciler(w.settings, runtime, w.edges);
}

/** One pass, and the commands it sent that change something (not the `show`s). */
async function pass(r: Reconciler): Promise<{ outcome: ReconcileOutcome; sent: string[] }> {
  const from = w.haproxy.commands.length;
  const outcome = await r.pass();
  return { outcome, sent: w.haproxy.commands.slice(from).filter((c) => !c.startsWith('show ')) };
}

const applied = (outcome: ReconcileOutcome) => {
  assert.equal(outcome.kind, 'applied', JSON.stringify(outcome));
  return outcome as Extract<ReconcileOutcome, { kind: 'applied' }>;
};

describe('reconcile: join', () => {
  test('a new alive backend is added from the partial, its checks on, in rotation, with dynamic cookies re-enabled', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    const { outcome, sent } = await pass(r);
    const args = renderServerArgs({ name: 'web1', address: '10.0.0.11', port: 3000 }, w.settings);
    assert.deepEqual(sent, [`add server webapps/${args}`, 'enable health webapps/web1', 'enable server webapps/web1', 'enable dynamic-cookie backend webapps']);
    assert.deepEqual(applied(outcome).actions, ['add web1 10.0.0.11:3000']);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
    assert.match(readFileSync(w.settings.configPath, 'utf8'), /^\s+server web1 10\.0\.0\.11:3000 /m, 'the installed file has it too');
  });

  test('a pass that finds HAProxy as wanted sends nothing and runs no check', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    const checks = w.checked.length;
    const { outcome, sent } = await pass(r);
    assert.deepEqual(sent, []);
    assert.deepEqual(applied(outcome).actions, []);
    assert.equal(w.checked.length, checks, 'an unchanged render is not checked again');
  });

  test('a member with a port tag is served on that port; other roles and statuses are not servers', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11', 'alive', 3100), { name: 'balancer', address: '10.0.0.1', status: 'alive', tags: { role: 'balancer' } }, member('web2', '10.0.0.12', 'leaving')];
    await pass(r);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3100 ready' });
  });
});

describe('reconcile: leave and fail', () => {
  test('leave: out of rotation at once, deleted by the first pass after its sessions close', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12')];
    await pass(r);
    Object.assign(w.haproxy.servers.get('web2')!, { sessions: 3, closeAt: 1200 });
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12', 'leaving')];
    w.t = 100;
    let { outcome, sent } = await pass(r);
    assert.deepEqual(sent, ['set server webapps/web2 state maint']);
    assert.deepEqual(applied(outcome).actions, ['out of rotation web2, draining']);
    assert.deepEqual(applied(outcome).draining, ['web2']);
    assert.equal(r.drainingSince(), 100);
    assert.equal(w.haproxy.table().web2, '10.0.0.12:3000 maint');

    w.t = 1000; // sessions still open: nothing to say, nothing sent
    ({ outcome, sent } = await pass(r));
    assert.deepEqual([sent, applied(outcome).actions, applied(outcome).draining], [[], [], ['web2']]);

    w.t = 1300;
    ({ outcome, sent } = await pass(r));
    assert.deepEqual(sent, ['del server webapps/web2']);
    assert.deepEqual(applied(outcome).actions, ['deleted web2']);
    assert.deepEqual(applied(outcome).draining, []);
    assert.equal(r.drainingSince(), null);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
    assert.equal(w.logs.filter((l) => l.level === 'warn').length, 0, 'no drain timeout');
  });

  test('leave: sessions still open at the drain timeout are cut, then the server is deleted', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    Object.assign(w.haproxy.servers.get('web1')!, { sessions: 2, closeAt: Number.POSITIVE_INFINITY });
    w.members = [];
    await pass(r);
    w.t = DRAIN_MS - 1;
    assert.deepEqual((await pass(r)).sent, [], 'not before the timeout');
    w.t = DRAIN_MS;
    const { outcome, sent } = await pass(r);
    assert.deepEqual(sent, ['shutdown sessions server webapps/web1', 'del server webapps/web1']);
    assert.deepEqual(applied(outcome).actions, ['deleted web1']);
    assert.deepEqual(w.logs.filter((l) => l.level === 'warn').map((l) => l.fields), [{ event: 'drain-timeout', server: 'web1', sessions: 2 }]);
  });

  test('fail: a failed member without sessions is out of rotation and deleted in one pass', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12')];
    await pass(r);
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12', 'failed')];
    const { outcome, sent } = await pass(r);
    assert.deepEqual(sent, ['set server webapps/web2 state maint', 'del server webapps/web2']);
    assert.deepEqual(applied(outcome).actions, ['out of rotation and deleted web2']);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
  });

  test('a member back while its server drains is put back in rotation, not re-added', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    Object.assign(w.haproxy.servers.get('web1')!, { sessions: 1, closeAt: 10_000 });
    w.members = [member('web1', '10.0.0.11', 'leaving')];
    await pass(r);
    w.members = [member('web1', '10.0.0.11')];
    const { outcome, sent } = await pass(r);
    assert.deepEqual(sent, ['set server webapps/web1 state ready']);
    assert.deepEqual(applied(outcome).draining, []);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
  });
});

describe('reconcile: burst', () => {
  test('many changes in one membership read: one pass, templates read once, a moved name freed first, every change applied', async () => {
    const r = await boot();
    w.members = Array.from({ length: 10 }, (_, i) => member(`old${i}`, `10.0.1.${i + 1}`));
    w.members.push(member('mover', '10.0.9.1'));
    await pass(r);
    // 5 of the old ones fail, 40 join, `mover` comes back at a new address with a session open.
    Object.assign(w.haproxy.servers.get('mover')!, { sessions: 1, closeAt: 400 });
    w.members = [
      ...Array.from({ length: 10 }, (_, i) => member(`old${i}`, `10.0.1.${i + 1}`, i < 5 ? 'failed' : 'alive')),
      ...Array.from({ length: 40 }, (_, i) => member(`new${i}`, `10.0.2.${i + 1}`)),
      member('mover', '10.0.9.2'),
    ];
    const reads = w.templateReads;
    const { outcome, sent } = await pass(r);
    assert.equal(w.templateReads - reads, 1, 'the templates are read (and compiled) once for the pass');
    assert.equal(applied(outcome).failed, 0);
    assert.equal(applied(outcome).actions.length, 1 + 41 + 5);
    assert.deepEqual(sent.slice(0, 2), ['set server webapps/mover state maint', 'del server webapps/mover'], 'the moved name is freed before anything is added');
    assert.equal(w.t, 400, "the move waited for its session in virtual time, the pass's own sleeps");
    assert.match(sent[2]!, /^add server webapps\/mover 10\.0\.9\.2:3000 /);
    assert.equal(sent.filter((c) => c.startsWith('add server')).length, 41);
    assert.equal(sent.filter((c) => c === 'enable dynamic-cookie backend webapps').length, 1, 'cookies re-enabled once, after all adds');
    const table = w.haproxy.table();
    assert.equal(Object.keys(table).length, 5 + 40 + 1);
    assert.ok(Object.values(table).every((s) => s.endsWith(' ready')));
    assert.equal(table.mover, '10.0.9.2:3000 ready');
  });

  test('one failing change does not stop the others; the pass counts it', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12')];
    w.haproxy.onCommand = (c) => {
      if (c.startsWith('enable health webapps/web1')) w.haproxy.servers.delete('web1');
    };
    const outcome = applied((await pass(r)).outcome);
    assert.equal(outcome.failed, 1);
    assert.deepEqual(outcome.actions, ['add web2 10.0.0.12:3000']);
    assert.deepEqual(
      w.logs.filter((l) => l.level === 'error').map((l) => l.fields.action),
      ['add web1 10.0.0.11:3000'],
    );
  });
});

describe('reconcile: HAProxy restarted', () => {
  test('while HAProxy is down a pass installs the file and says not-running; back with that file, nothing is left to add', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    w.haproxy.stop();
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12')];
    const down = await r.pass();
    assert.deepEqual(down, { kind: 'not-running', servers: ['web1', 'web2'] });
    assert.match(readFileSync(w.settings.configPath, 'utf8'), /^\s+server web2 /m, 'the file is ready for its start');
    w.haproxy.start(); // its run script's render, then HAProxy reads the file
    const { outcome, sent } = await pass(r);
    assert.deepEqual(sent, []);
    assert.deepEqual(applied(outcome).actions, []);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready', web2: '10.0.0.12:3000 ready' });
  });

  test('HAProxy gone between two questions of a pass: an apply error, retried by the caller; the next pass applies', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    w.haproxy.onCommand = (c) => {
      if (c.startsWith('show servers state')) w.haproxy.stop();
    };
    await assert.rejects(r.pass(), (err: unknown) => err instanceof ReconcileError && err.step === 'apply' && /ENOENT/.test(err.message));
    w.haproxy.onCommand = () => undefined;
    w.haproxy.start();
    // It started with the file the failed pass installed: web1 is there already.
    assert.deepEqual(applied((await pass(r)).outcome).actions, []);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
  });

  test('a server added at runtime that the restart lost (file written before it) is added again', async () => {
    const r = await boot(); // file without servers
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    w.haproxy.stop();
    w.haproxy.servers.clear();
    // Restarted from a file without web1 (e.g. its render fell back to an older file).
    const stale = readFileSync(w.settings.configPath, 'utf8').replace(/^\s+server web1 .*\n/m, '');
    writeFileSync(w.settings.configPath, stale);
    w.haproxy.start();
    const { outcome } = await pass(r);
    assert.deepEqual(applied(outcome).actions, ['add web1 10.0.0.11:3000']);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
  });
});

describe('reconcile: reload, render and check', () => {
  test('a change outside the servers reloads HAProxy and waits (in virtual time) for the new worker', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    const oldPid = w.haproxy.pid;
    w.haproxy.reloadLag = 3;
    w.templates = { ...shipped, config: shipped.config.replace('timeout client 30s', 'timeout client 31s') };
    const start = w.t;
    const { outcome, sent } = await pass(r);
    assert.deepEqual(outcome, { kind: 'reloaded', servers: ['web1'] });
    assert.deepEqual(sent, ['reload']);
    assert.notEqual(w.haproxy.pid, oldPid);
    assert.equal(w.t - start, 3 * 50, 'three looks at the old worker, 50 virtual ms apart');
    assert.match(readFileSync(`${w.settings.configPath}.skeleton`, 'utf8'), /timeout client 31s/);
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' }, 'the reloaded worker read the file');
    assert.deepEqual((await pass(r)).sent, [], 'the next pass finds nothing to do');
  });

  test('a reload whose new worker never answers fails after its looks, in virtual time', async () => {
    const r = await boot();
    w.haproxy.reloadLag = Number.POSITIVE_INFINITY;
    w.templates = { ...shipped, config: shipped.config.replace('timeout client 30s', 'timeout client 31s') };
    await assert.rejects(r.pass(), (err: unknown) => err instanceof ReconcileError && err.step === 'reload' && /after 100 looks 50 ms apart/.test(err.message));
    assert.equal(w.t, 100 * 50);
  });

  test('a render HAProxy rejects changes nothing: file, skeleton and servers stay', async () => {
    const r = await boot();
    w.members = [member('web1', '10.0.0.11')];
    await pass(r);
    const before = readFileSync(w.settings.configPath, 'utf8');
    w.members = [member('web1', '10.0.0.11'), member('web2', '10.0.0.12')];
    w.checkFails = "[ALERT] parsing [haproxy.cfg.new:40]: unknown keyword 'x'";
    const sentBefore = w.haproxy.commands.filter((c) => !c.startsWith('show ')).length;
    await assert.rejects(r.pass(), (err: unknown) => err instanceof ReconcileError && err.step === 'check' && /unknown keyword/.test(err.message));
    assert.equal(readFileSync(w.settings.configPath, 'utf8'), before);
    assert.equal(existsSync(`${w.settings.configPath}.new`), false, 'the rejected render is removed');
    assert.equal(w.haproxy.commands.filter((c) => !c.startsWith('show ')).length, sentBefore, 'nothing sent to HAProxy');
    assert.deepEqual(w.haproxy.table(), { web1: '10.0.0.11:3000 ready' });
  });

  test('a template that does not compile is a render error naming the file', async () => {
    const r = await boot();
    w.templates = { ...shipped, server: '{{server.name' };
    await assert.rejects(r.pass(), (err: unknown) => err instanceof ReconcileError && err.step === 'render' && err.message.includes('server.hbs'));
  });

  test('Serf unreachable: render writes a file without servers at first boot, keeps the installed one after', async () => {
    w.members = new Error('connection refused');
    const render = new Reconciler(w.settings, { kind: 'render', then: 'runtime-api' }, w.edges);
    assert.deepEqual(await render.pass(), { kind: 'rendered', servers: [] });
    assert.deepEqual(await render.pass(), { kind: 'kept', reason: 'serf unreachable (connection refused)' });
    const watch = new Reconciler(w.settings, runtime, w.edges);
    await assert.rejects(watch.pass(), (err: unknown) => err instanceof ReconcileError && err.step === 'members');
  });
});

describe('reconcile: the reload-sf strategy (the lab method)', () => {
  test('not running: nothing; a change: one replacement with the whole file; the same again: unchanged', async () => {
    let pid: number | null = null;
    const replaced: string[] = [];
    const strategy: Strategy = {
      kind: 'reload-sf',
      running: () => pid,
      replace: async (configPath) => {
        replaced.push(readFileSync(configPath, 'utf8'));
        const oldPid = pid;
        pid = (pid ?? 0) + 1;
        return { oldPid, newPid: pid };
      },
    };
    assert.equal((await new Reconciler(w.settings, { kind: 'render', then: 'reload-sf' }, w.edges).pass()).kind, 'rendered');
    assert.ok(existsSync(`${w.settings.configPath}.running`), 'render records what HAProxy starts with');
    const r = new Reconciler(w.settings, strategy, w.edges);
    w.members = [member('web1', '10.0.0.11')];
    assert.deepEqual(await r.pass(), { kind: 'not-running', servers: ['web1'] });
    pid = 7;
    assert.deepEqual(await r.pass(), { kind: 'replaced', servers: ['web1'], oldPid: 7, newPid: 8 });
    assert.equal(replaced.length, 1);
    assert.match(replaced[0]!, /^\s+server web1 10\.0\.0\.11:3000 /m);
    assert.deepEqual(await r.pass(), { kind: 'unchanged', servers: ['web1'] });
    assert.equal(w.haproxy.commands.length, 0, 'no runtime API in this strategy');
  });
});
