/**
 * The self-scaling stack for real: each node is warden as PID 1 of its own PID namespace inside
 * its own network namespace, running the repo's services.d with real HAProxy, Serf and webapps.
 * The load runs inside the balancer's namespace against its frontend (127.0.0.1:80), with
 * keep-alive and no cookies. The tests share one cluster and run in order; each prints what it
 * measured. Needs root and `scripts/install-stack-deps.sh`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from './cluster.js';
import { Load } from './load.js';
import { removeStaleNamespaces } from './netns.js';
import { eventually, type LogEvent, type StackNode } from './stack-node.js';

const FRONTEND = 'http://127.0.0.1:80/';
const CONCURRENCY = 16;
const CYCLES = Number(process.env.STACK_TEST_CYCLES || 10);
const KILLS = Number(process.env.STACK_TEST_KILLS || 3);

let cluster: Cluster;
const loads: Load[] = [];

function startLoad(durationMs: number): Load {
  const load = new Load(cluster.balancer.opts.net.ns, FRONTEND, CONCURRENCY, durationMs);
  loads.push(load);
  return load;
}

/** Logs one measurement line (node:test shows it with the test's output). */
function report(what: string, value: unknown): void {
  console.log(`# measured: ${what}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

/** ms from the node's start to the first logged line matching `pred` (on `on`), or -1. */
function loggedAfter(node: StackNode, on: StackNode, pred: (e: LogEvent) => boolean): number {
  const time = on.find(pred)[0]?.time;
  return typeof time === 'number' ? time - node.startedAtEpoch : -1;
}

/** Starts a backend and waits until the load sees it answer through the balancer; returns ms from start, and where they went. */
async function addBackend(name: string, load: Load): Promise<{ node: StackNode; toFirstServedMs: number; steps: string }> {
  const node = cluster.startBackend(name);
  await eventually(`${name} answering through the balancer`, () => load.servedBy(name) > 0, 30_000, 10).catch((err: Error) => {
    throw new Error(`${err.message}; ${node.tail()}\n${cluster.balancer.tail()}`);
  });
  const toFirstServedMs = load.firstSeen.get(name)! - node.startedAt;
  const at = (on: StackNode, pred: (e: LogEvent) => boolean): number => loggedAfter(node, on, pred);
  const steps = [
    `warden booted ${at(node, (e) => e.event === 'boot')}`,
    `webapp ready ${at(node, (e) => e.event === 'ready' && e.service === 'webapp')}`,
    `serf started ${at(node, (e) => e.event === 'started' && e.service === 'serf')}`,
    `handler applied ${at(cluster.balancer, (e) => e.event === 'reconciled' && Array.isArray(e.changes) && e.changes.includes(`join ${name}`))}`,
    `served ${Math.round(toFirstServedMs)}`,
  ].join(', ');
  return { node, toFirstServedMs, steps };
}

/** SIGTERM to the node's warden (docker stop); returns ms until HAProxy no longer routes to it, and its exit. */
async function stopBackend(node: StackNode): Promise<{ outOfRotationMs: number; code: number | null }> {
  const t0 = performance.now();
  await node.signal('SIGTERM');
  await eventually(`${node.name} out of rotation`, async () => !(await cluster.inRotation()).includes(node.name), 15_000, 20);
  const outOfRotationMs = performance.now() - t0;
  const exit = await node.waitForExit(30_000);
  cluster.removeNet(node.name);
  return { outOfRotationMs, code: exit.code };
}

describe('the self-scaling stack (HAProxy + Serf + webapps under warden, in network namespaces)', { timeout: 360_000 }, () => {
  before(() => {
    const stale = removeStaleNamespaces();
    if (stale.length > 0) console.log(`# removed stale namespaces: ${stale.join(' ')}`);
    cluster = new Cluster('c');
  });

  after(async () => {
    for (const load of loads) load.kill();
    const keep = process.env.STACK_TEST_KEEP === '1';
    if (keep) console.log(`# node logs kept in ${cluster.dir}`);
    await cluster?.destroy(keep);
  });

  it('backends started before the balancer still join it (retry-join)', async () => {
    const web1 = cluster.startBackend('web1');
    const web2 = cluster.startBackend('web2');
    await Promise.all([web1.waitReady('webapp'), web2.waitReady('webapp')]);
    await Promise.all([web1.waitForEvent((e) => e.event === 'started' && e.service === 'serf', 20_000, 'serf started'), web2.waitForEvent((e) => e.event === 'started' && e.service === 'serf', 20_000, 'serf started')]);
    // Let them fail a few join attempts: the balancer is not there yet.
    await sleep(2500);
    const t0 = performance.now();
    const balancer = cluster.startBalancer();
    // Readiness comes only from HAProxy's own sd_notify READY=1 (the service's notify-socket):
    // when warden says ready, a worker already answers on the admin socket.
    await balancer.waitReady('haproxy');
    assert.notEqual(await cluster.api.workerPid(), null, 'a worker answers once warden reports haproxy ready');
    await cluster.waitForRotation(['web1', 'web2'], 30_000);
    report('balancer start → both early backends in rotation (ms)', Math.round(performance.now() - t0));
  });

  it('traffic flows to both backends through the balancer, with sessions sticky by cookie', async () => {
    const load = startLoad(20_000);
    await eventually('answers from web1 and web2', () => load.servedBy('web1') > 20 && load.servedBy('web2') > 20, 15_000);
    const final = await load.stop();
    assert.equal(final.failed, 0, `failed requests: ${load.errors.join('; ')}`);
    report('requests split', final.byHost);
  });

  it(`${CYCLES} cycles of add node / graceful remove under keep-alive load: 0 failed requests`, async () => {
    const load = startLoad(300_000);
    await eventually('load running', () => load.last.ok > 50, 10_000);
    const rows: { cycle: number; firstServedMs: number; outOfRotationMs: number; failed: number; exit: number | null; steps: string }[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const failedBefore = load.last.failed;
      const { node, toFirstServedMs, steps } = await addBackend(`c${cycle}`, load);
      const { outOfRotationMs, code } = await stopBackend(node);
      // Let the requests of this cycle settle into the counts.
      await sleep(300);
      rows.push({ cycle, firstServedMs: Math.round(toFirstServedMs), outOfRotationMs: Math.round(outOfRotationMs), failed: load.last.failed - failedBefore, exit: code, steps });
    }
    const final = await load.stop();
    for (const r of rows) report(`cycle ${r.cycle}`, r);
    report('start → first request served through the balancer, median ms', median(rows.map((r) => r.firstServedMs)));
    report('SIGTERM → out of rotation, median ms', median(rows.map((r) => r.outOfRotationMs)));
    report('requests / failed over all cycles', `${final.ok + final.failed} / ${final.failed}`);
    assert.deepEqual(rows.map((r) => r.exit), rows.map(() => 0), 'every node exits 0 after SIGTERM');
    assert.equal(final.failed, 0, `failed requests: ${load.errors.slice(0, 20).join('; ')}`);
    await cluster.waitForRotation(['web1', 'web2'], 5000);
  });

  it(`HAProxy killed with SIGKILL ${KILLS} times under keep-alive load: its held sockets refuse no connection`, async () => {
    const balancer = cluster.balancer;
    const load = startLoad(300_000);
    await eventually('load running', () => load.last.ok > 50, 10_000);
    const readies = (): number => balancer.find((e) => e.event === 'ready' && e.service === 'haproxy').length;
    const rows: { kill: number; readyMs: number; answeredMs: number; refused: number; reset: number; other: number }[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      const before = load.last;
      const readyBefore = readies();
      const t0 = performance.now();
      // `warden signal KILL haproxy` inside the balancer: HAProxy's master gets SIGKILL, its
      // worker goes with it; warden starts a new run on the same listening sockets.
      await balancer.warden('signal', 'KILL', 'haproxy');
      const okAtKill = load.last.ok;
      await eventually('haproxy ready again', () => readies() > readyBefore, 60_000, 20);
      const readyMs = performance.now() - t0;
      await eventually('answers through the new HAProxy', () => load.last.ok > okAtKill + CONCURRENCY, 60_000, 20);
      const answeredMs = performance.now() - t0;
      // Apart, so that the kills are not a crash loop (warden's backoff), and the counts settle.
      await sleep(1500);
      const now = load.last;
      const [refused, reset] = [now.refused - before.refused, now.reset - before.reset];
      rows.push({ kill, readyMs: Math.round(readyMs), answeredMs: Math.round(answeredMs), refused, reset, other: now.failed - before.failed - refused - reset });
    }
    const final = await load.stop();
    for (const r of rows) report(`HAProxy SIGKILL ${r.kill}`, r);
    const sum = (key: 'refused' | 'reset' | 'other'): number => rows.reduce((n, r) => n + r[key], 0);
    report('requests / refused / reset in flight / other failures over all kills', `${final.ok + final.failed} / ${sum('refused')} / ${sum('reset')} / ${sum('other')}`);
    if (final.failed > 0) report('failures', load.errors.slice(0, 20));
    // What a refused connection is without the held sockets: the restart's whole gap.
    assert.equal(sum('refused'), 0, `refused connections: ${load.errors.slice(0, 20).join('; ')}`);
    // Only requests on connections the killed HAProxy held may fail (reset); nothing else.
    assert.equal(sum('other'), 0, `failures other than resets: ${load.errors.slice(0, 20).join('; ')}`);
    await cluster.waitForRotation(['web1', 'web2'], 30_000);
  });

  it(`a webapp killed with SIGKILL ${KILLS} times inside its node: no connection to it refused, 0 failed through HAProxy`, async () => {
    const web1 = cluster.nodes.get('web1')!;
    const load = startLoad(300_000);
    // Straight to web1's webapp as well (from the balancer's namespace, as HAProxy connects):
    // what a client of the node itself sees while the webapp restarts.
    const direct = new Load(cluster.balancer.opts.net.ns, `http://${web1.address}:3000/`, 2, 300_000);
    loads.push(direct);
    await eventually('load running', () => load.last.ok > 50 && direct.last.ok > 10, 10_000);
    const web1Stat = async (): Promise<{ connErrors: number; retries: number; redispatches: number }> => {
      const row = (await cluster.stat()).find((r) => r.proxy === 'webapps' && r.server === 'web1');
      if (row === undefined) throw new Error('web1 is not in HAProxy');
      return row;
    };
    const before = await web1Stat();
    const failedBefore = load.last.failed;
    const directBefore = direct.last;
    const readies = (): number => web1.find((e) => e.event === 'ready' && e.service === 'webapp').length;
    const readyMs: number[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      const readyBefore = readies();
      const t0 = performance.now();
      await web1.warden('signal', 'KILL', 'webapp');
      await eventually('webapp ready again', () => readies() > readyBefore, 60_000, 20);
      readyMs.push(Math.round(performance.now() - t0));
      const servedAt = load.servedBy('web1');
      await eventually('web1 answering again', () => load.servedBy('web1') > servedAt, 60_000, 20);
      await sleep(1500);
    }
    const after = await web1Stat();
    const final = await load.stop();
    const straight = await direct.stop();
    report('webapp SIGKILL → ready again, ms', readyMs);
    report('straight to web1: requests / refused / reset in flight / other failures', `${straight.ok + straight.failed - directBefore.ok - directBefore.failed} / ${straight.refused - directBefore.refused} / ${straight.reset - directBefore.reset} / ${straight.failed - directBefore.failed - (straight.refused - directBefore.refused) - (straight.reset - directBefore.reset)}`);
    report('HAProxy → web1 connection errors / retries / redispatches over the kills', `${after.connErrors - before.connErrors} / ${after.retries - before.retries} / ${after.redispatches - before.redispatches}`);
    report('requests / failed over the kills', `${final.ok + final.failed} / ${final.failed - failedBefore}`);
    // Without the held socket each restart refuses every connection until the new webapp listens.
    assert.equal(straight.refused - directBefore.refused, 0, `refused by web1: ${direct.errors.slice(0, 20).join('; ')}`);
    assert.equal(straight.failed - directBefore.failed - (straight.refused - directBefore.refused) - (straight.reset - directBefore.reset), 0, `failures straight to web1 other than resets: ${direct.errors.slice(0, 20).join('; ')}`);
    assert.equal(after.connErrors - before.connErrors, 0, 'HAProxy could not connect to web1');
    assert.equal(final.failed - failedBefore, 0, `failed requests through HAProxy: ${load.errors.slice(0, 20).join('; ')}`);
  });

  it('a node killed with SIGKILL (its whole PID namespace) is taken out; failed requests are counted', async () => {
    const load = startLoad(120_000);
    const { node } = await addBackend('k1', load);
    await sleep(500);
    const failedBefore = load.last.failed;
    const t0 = performance.now();
    await node.kill();
    // The container is gone: so is its network.
    cluster.removeNet('k1');
    // HAProxy stops sending to it on its own (its DOWN) before Serf's failure detection removes it.
    await eventually('HAProxy marks k1 DOWN', async () => (await cluster.servers()).find((s) => s.name === 'k1')?.opState !== 2, 30_000, 20);
    const downMs = performance.now() - t0;
    await cluster.waitForRotation(['web1', 'web2'], 30_000);
    const removedMs = Math.round(performance.now() - t0);
    report('SIGKILL → HAProxy marks it DOWN, ms', Math.round(downMs));
    await sleep(1000);
    const final = await load.stop();
    const failed = final.failed - failedBefore;
    report('SIGKILL → out of rotation (Serf member-failed → handler), ms', removedMs);
    report('failed requests around the SIGKILL (goal 0 with redispatch + retry-on)', failed);
    if (failed > 0) report('failures', load.errors.slice(0, 10));
    const retried = (await cluster.stat()).find((r) => r.proxy === 'webapps' && r.server === 'BACKEND');
    report('HAProxy backend retries / redispatches so far', `${retried?.retries ?? '?'} / ${retried?.redispatches ?? '?'}`);
    assert.ok(load.servedBy('web1') > 0 && load.servedBy('web2') > 0, 'the survivors kept serving');
  });

  it('a broken template: the handler logs the error and the old config keeps serving', async () => {
    const templateFile = join(cluster.templateDir, 'haproxy.cfg.hbs');
    const good = readFileSync(templateFile, 'utf8');
    const configFile = join(cluster.balancer.runDir, 'haproxy.cfg');
    const before = readFileSync(configFile, 'utf8');
    const load = startLoad(120_000);
    const balancer = cluster.balancer;

    // 1. Handlebars does not compile it.
    writeFileSync(templateFile, good.replace('{{#each servers}}', '{{#each servers}'));
    cluster.startBackend('t1');
    const renderError = await balancer.waitForEvent((e) => e.service === 'serf-handler' && e.event === 'render-failed', 30_000, 'render-failed');
    report('logged', renderError);
    assert.equal(readFileSync(configFile, 'utf8'), before, 'the installed config is untouched');
    assert.deepEqual((await cluster.inRotation()).sort(), ['web1', 'web2']);

    // 2. It renders, but HAProxy rejects the result.
    writeFileSync(templateFile, good.replace('    balance roundrobin', '    balance roundrobin\n    no-such-keyword here'));
    cluster.startBackend('t2');
    const checkError = await balancer.waitForEvent((e) => e.service === 'serf-handler' && e.event === 'check-failed', 30_000, 'check-failed');
    report('logged', checkError);
    assert.equal(readFileSync(configFile, 'utf8'), before, 'the installed config is untouched');
    assert.deepEqual((await cluster.inRotation()).sort(), ['web1', 'web2']);

    // 3. Fixed (with one changed comment, so the rest of the file differs: a master-worker
    //    reload); the next event brings in every alive backend, not only the one it names.
    writeFileSync(templateFile, `# revision 2\n${good}`);
    const failedBeforeReload = load.last.failed;
    cluster.startBackend('t3');
    await cluster.waitForRotation(['t1', 't2', 't3', 'web1', 'web2'], 30_000);
    // The new worker serves before the handler logs its outcome: wait for the line.
    await balancer.waitForEvent((e) => e.service === 'serf-handler' && e.event === 'reconciled' && e.kind === 'reloaded', 10_000, 'a reload');
    await sleep(1000);
    const final = await load.stop();
    report('failed requests across the broken renders and one reload', final.failed - failedBeforeReload);
    assert.equal(final.failed, 0, `failed requests: ${load.errors.slice(0, 20).join('; ')}`);
  });
});
