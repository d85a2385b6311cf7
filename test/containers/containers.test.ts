/**
 * The stack's container images for real (podman): a balancer and webapp nodes, each container
 * running warden as PID 1, on a network of their own; traffic only to the balancer's ports
 * published on 127.0.0.1. The tests share one stack and run in order:
 *
 *   - nodes started before the balancer still join it (Serf retry-join);
 *   - `podman run` of a node → its first request served through the balancer (measured);
 *   - `podman stop` (SIGTERM) of a node under load: out of rotation before its container is
 *     gone (measured), every service stops on its own signal, Serf leaves, exit 0, no failed
 *     request;
 *   - `kill -9` of the webapp / Serf inside a node and of HAProxy / Serf / the membership handler
 *     inside the balancer:
 *     warden restarts it and the cluster heals (failed requests counted and shown);
 *   - `podman stop` of every remaining container: every service stops on its own signal, exit 0.
 *
 * No wall-clock bound a correct stack can miss on a busy machine: a graceful stop is one where
 * warden SIGKILLed no service (its own `timeout-kill` bounds) and podman none (`-t`, else exit
 * 137); out of rotation is checked against the node's own end, not a number of seconds (podman
 * itself may take seconds to deliver the signal when other podman commands hold its locks).
 *
 * Skipped (with the reason) only when podman cannot run here. The images are built (or found up
 * to date) by scripts/build-images.sh first. Needs root. Containers and the network are removed
 * in the end, whatever happened.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Load } from './load.js';
import { buildImages, containerState, eventually, freePort, logs, podman, podmanOk, podmanUnusable, serfMembers, service } from './podman.js';
import { serverTable } from './stats.js';

const RUN = `wt${process.pid.toString(36)}`;
const NET = `${RUN}-net`;
const LABEL = 'warden-test';
const BALANCER = `${RUN}-balancer`;
const IMAGES = { balancer: 'localhost/warden-haproxy:latest', webapp: 'localhost/warden-webapp:latest' };
/** `podman stop -t`: SIGKILL after this (exit 137, not 0). */
const STOP_TIMEOUT_S = 30;

const unusable = await podmanUnusable();
if (unusable !== null) console.log(`containers test skipped: ${unusable}`);

let httpPort = 0;
let statsPort = 0;
const started: string[] = [];
const loads: Load[] = [];

const report = (what: string, value: unknown): void => console.log(`measured: ${what}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
const node = (n: number): string => `${RUN}-web-${n}`;
const host = (n: number): string => `web-${n}`;
const statsUrl = (): string => `http://127.0.0.1:${statsPort}/`;

async function runNode(n: number): Promise<number> {
  const t0 = Date.now();
  await podmanOk(['run', '-d', '--name', node(n), '--hostname', host(n), '--network', NET, '--label', `${LABEL}=${RUN}`, '-e', 'TAG=test', IMAGES.webapp]);
  started.push(node(n));
  return t0;
}

async function runBalancer(): Promise<number> {
  const t0 = Date.now();
  await podmanOk([
    'run', '-d', '--name', BALANCER, '--hostname', 'balancer', '--network', NET, '--network-alias', 'balancer',
    '--label', `${LABEL}=${RUN}`, '-p', `127.0.0.1:${httpPort}:80`, '-p', `127.0.0.1:${statsPort}:1936`, IMAGES.balancer,
  ]);
  started.push(BALANCER);
  return t0;
}

async function upInHaproxy(names: readonly string[]): Promise<boolean> {
  const rows = await serverTable(statsUrl());
  return names.every((n) => rows.some((r) => r.name === n && r.status === 'UP'));
}

function startLoad(): Load {
  const load = new Load({ url: `http://127.0.0.1:${httpPort}/`, concurrency: 8, rate: 400, durationMs: 240_000 });
  loads.push(load);
  return load;
}

/** With the logs of the given containers appended, for a failure message. */
async function withLogs(err: unknown, ...containers: string[]): Promise<never> {
  const tails = await Promise.all(containers.map(async (c) => `--- ${c}:\n${await logs(c, 30)}`));
  throw new Error(`${(err as Error).message}\n${tails.join('\n')}`);
}

/** What a graceful stop took: podman stop's whole command, and warden's own shutdown → exit (its log's stamps). */
interface StopTimes {
  readonly podmanMs: number;
  readonly wardenMs: number;
}

/**
 * `podman stop`; checks exit 0 (podman did not SIGKILL), that warden SIGKILLed no service (each
 * stopped on its own down signal within its timeout-kill) and each one's "exited" line.
 */
async function stopGracefully(container: string, services: readonly string[]): Promise<StopTimes> {
  const t0 = performance.now();
  const r = await podman(['stop', '-t', String(STOP_TIMEOUT_S), container], (STOP_TIMEOUT_S + 60) * 1000);
  const podmanMs = performance.now() - t0;
  assert.equal(r.code, 0, `podman stop ${container}: ${r.stderr}`);
  const state = await containerState(container);
  const log = await logs(container, 400);
  const tail = log.split('\n').slice(-30).join('\n');
  assert.equal(state.exitCode, 0, `${container} exited ${state.exitCode}, not 0\n${tail}`);
  assert.doesNotMatch(log, /"event":"(retire-kill|stop-timeout)"/, `${container}: warden had to SIGKILL a service\n${tail}`);
  for (const s of services) {
    assert.match(log, new RegExp(`"service":"${s}","event":"exited"`), `${container}: no "exited" line for ${s}\n${tail}`);
  }
  const stamp = (event: string): number => Number(new RegExp(`"time":(\\d+),"event":"${event}"`).exec(log)?.[1] ?? NaN);
  assert.match(log, /"event":"exit","code":0/, `${container}: warden's exit line missing`);
  return { podmanMs, wardenMs: stamp('exit') - stamp('shutdown') };
}

/**
 * Polls `check` until it holds, for as long as `end` (the node's stop) has not settled, then once
 * more: what must happen before a node is gone is bounded by the node's going, not by a clock.
 */
async function ahead(what: string, check: () => Promise<boolean>, end: Promise<unknown>, everyMs: number): Promise<number> {
  const t0 = performance.now();
  let ended = false;
  void end.then(() => (ended = true), () => (ended = true));
  let last = '';
  for (;;) {
    const done = ended;
    try {
      if (await check()) return performance.now() - t0;
      last = '';
    } catch (err) {
      last = (err as Error).message;
    }
    if (done) throw new Error(`${what}: not yet when the node was gone${last ? ` (last error: ${last})` : ''}`);
    await sleep(everyMs);
  }
}

describe('the stack in containers (podman)', { skip: unusable ?? false, timeout: 20 * 60_000 }, () => {
  before(async () => {
    // Leftovers of an earlier run that was killed before its cleanup.
    const stale = (await podman(['ps', '-a', '--filter', `label=${LABEL}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
    if (stale.length > 0) await podman(['rm', '-f', '-t', '0', ...stale]);
    const staleNets = (await podman(['network', 'ls', '--filter', `label=${LABEL}`, '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean);
    for (const net of staleNets) await podman(['network', 'rm', '-f', net]);
    buildImages();
    httpPort = await freePort();
    statsPort = await freePort();
    await podmanOk(['network', 'create', '--label', `${LABEL}=${RUN}`, NET]);
  });

  after(async () => {
    for (const load of loads) await load.stop().catch(() => undefined);
    const names = (await podman(['ps', '-a', '--filter', `label=${LABEL}=${RUN}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
    if (names.length > 0) await podman(['rm', '-f', '-t', '0', ...names], 120_000);
    await podman(['network', 'rm', '-f', NET]);
  });

  it('nodes started before the balancer still join it', { timeout: 90_000 }, async () => {
    await runNode(1);
    await runNode(2);
    // Their Serf runs and retries the join while the name "balancer" does not resolve yet.
    await eventually('serf up in both nodes', async () => (await service(node(1), 'serf')).state === 'up' && (await service(node(2), 'serf')).state === 'up', 30_000).catch((err) => withLogs(err, node(1), node(2)));
    await sleep(2000);
    const t0 = await runBalancer();
    await eventually('web-1 and web-2 UP in HAProxy', () => upInHaproxy([host(1), host(2)]), 30_000).catch((err) => withLogs(err, BALANCER, node(1)));
    report('balancer started 2+ s after the nodes → both in rotation (ms after its podman run)', Date.now() - t0);
    const members = await serfMembers(BALANCER);
    assert.equal(members.get(host(1)), 'alive');
    assert.equal(members.get(host(2)), 'alive');
  });

  it('podman run of a node → its first request served through the balancer', { timeout: 120_000 }, async () => {
    const load = startLoad();
    await eventually('the load answered by web-1 and web-2', () => load.servedBy(host(1)) > 0 && load.servedBy(host(2)) > 0, 10_000);
    const times: number[] = [];
    for (const n of [3, 4, 5]) {
      const t0 = await runNode(n);
      await eventually(`${host(n)} answering through the balancer`, () => load.servedBy(host(n)) > 0, 30_000).catch((err) => withLogs(err, node(n), BALANCER));
      times.push(load.firstSeen.get(host(n))! - t0);
      await sleep(1000);
    }
    report('podman run → first request served through the balancer (ms, 3 nodes; goal ≤ 2000)', times);
    assert.equal(load.failed, 0, `failed requests while adding nodes: ${load.errors.slice(0, 10).join('; ')}`);
  });

  it('podman stop of a node under load: out of rotation before it is gone, services stop, Serf leaves, exit 0, no failed request', { timeout: 180_000 }, async () => {
    const load = loads[0]!;
    const failedBefore = load.failed;
    const stopped = stopGracefully(node(5), ['serf', 'webapp']);
    // Out of rotation (in maintenance, being drained, or already deleted) while the node still
    // serves: its webapp waits for the requests to stop coming before it closes.
    const outMs = await ahead('web-5 out of rotation', async () => !(await serverTable(statsUrl())).some((r) => r.name === host(5) && r.status !== 'MAINT'), stopped, 20);
    report('podman stop of a node → out of HAProxy rotation (ms; goal ≤ 1000)', Math.round(outMs));
    const times = await stopped;
    report('podman stop of a node → exited 0 (ms: podman stop, warden shutdown → exit)', [Math.round(times.podmanMs), times.wardenMs]);
    // Serf's leave is done before the agent exits, and the handler deletes a drained server at
    // its next pass (a drain poll, else the resync: STACK_RESYNC_MS, 30 s).
    await eventually('web-5 left in Serf', async () => (await serfMembers(BALANCER)).get(host(5)) === 'left', 30_000);
    await eventually('web-5 out of HAProxy', async () => !(await serverTable(statsUrl())).some((r) => r.name === host(5)), 60_000);
    await sleep(1000);
    assert.equal(load.failed - failedBefore, 0, `failed requests during the graceful stop: ${load.errors.slice(0, 10).join('; ')}`);
  });

  for (const [victim, container, label] of [
    ['webapp', node(1), 'the webapp in a node'],
    ['serf', node(2), 'Serf in a node'],
    ['haproxy', BALANCER, 'HAProxy in the balancer'],
    ['serf', BALANCER, 'Serf in the balancer'],
    ['serf-handler', BALANCER, 'the membership handler in the balancer'],
  ] as const) {
    it(`kill -9 of ${label}: warden restarts it and the cluster heals`, { timeout: 120_000 }, async () => {
      const load = loads[0]!;
      const failedBefore = load.failed;
      const errorsBefore = load.errors.length;
      const before = await service(container, victim);
      assert.ok(before.pid !== null && before.state === 'up', `${victim} in ${container} is not up: ${JSON.stringify(before)}`);
      const t0 = performance.now();
      await podmanOk(['exec', container, 'sh', '-c', `kill -9 ${before.pid}`]);
      await eventually(`${victim} restarted in ${container}`, async () => {
        const s = await service(container, victim);
        return s.restarts > before.restarts && s.state === 'up' && s.ready;
      }, 30_000).catch((err) => withLogs(err, container));
      const restartedMs = performance.now() - t0;
      // Healed: every live node UP in HAProxy and answering the load again.
      const live = [1, 2, 3, 4].map(host);
      await eventually('every live node UP in HAProxy', () => upInHaproxy(live), 45_000).catch((err) => withLogs(err, BALANCER, container));
      const mark = Date.now();
      await eventually('every live node answering again', () => live.every((h) => (load.lastSeen.get(h) ?? 0) > mark), 20_000).catch((err) => withLogs(err, BALANCER));
      const healedMs = performance.now() - t0;
      const failed = load.failed - failedBefore;
      report(`kill -9 of ${label}`, { restartedMs: Math.round(restartedMs), healedMs: Math.round(healedMs), failed, errors: load.errors.slice(errorsBefore, errorsBefore + 5) });
      const members = await serfMembers(BALANCER);
      for (const h of live) assert.equal(members.get(h), 'alive', `${h} in Serf: ${members.get(h)}`);
    });
  }

  it('podman stop of every remaining container: services stop on their own signals, exit 0', { timeout: 240_000 }, async () => {
    const summary = await loads[0]!.stop();
    report('load over the whole test', { ok: summary.ok, failed: summary.failed, errors: summary.errors.slice(0, 10) });
    const nodes = [1, 2, 3, 4].map(node);
    const times = await Promise.all(nodes.map((c) => stopGracefully(c, ['serf', 'webapp'])));
    report('podman stop of 4 nodes at once → each exited 0 (ms: podman stop, warden shutdown → exit)', times.map((t) => [Math.round(t.podmanMs), t.wardenMs]));
    const balancer = await stopGracefully(BALANCER, ['serf-handler', 'serf', 'haproxy']);
    report('podman stop of the balancer → exited 0 (ms: podman stop, warden shutdown → exit)', [Math.round(balancer.podmanMs), balancer.wardenMs]);
  });
});
