/**
 * compose.yaml with Debian's podman-compose (1.0.3), as docs/stack.md tells users to scale:
 *
 *   - `up -d` starts the balancer and WEBAPP_REPLICAS webapps; all serve through the balancer;
 *   - `up -d` again with a larger WEBAPP_REPLICAS adds the missing replicas and keeps the running
 *     ones (same containers), under load, with no failed request;
 *   - `--scale webapp=N` changes nothing (podman-compose 1.0.3 parses it and ignores it);
 *   - scaling down is `podman stop` of the highest replica: out of rotation, exit 0, no failed request;
 *   - `down -t 30` (with the WEBAPP_REPLICAS it was started with) stops and removes every container.
 *
 * Ports are free ones on 127.0.0.1 (STACK_HTTP_PORT / STACK_STATS_PORT), the project name is the
 * test's own. Skipped when podman or podman-compose is missing. Needs root; the images are built
 * first when missing (scripts/build-images.sh).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Load } from './load.js';
import { buildImages, containerState, eventually, freePort, podman, podmanUnusable, REPO } from './podman.js';
import { serverTable } from './stats.js';

const PROJECT = `wc${process.pid.toString(36)}`;
const replica = (n: number): string => `${PROJECT}_webapp_${n}`;

interface Run {
  readonly code: number;
  readonly output: string;
}

function compose(args: readonly string[], env: Record<string, string>, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile('podman-compose', ['-p', PROJECT, ...args], { cwd: REPO, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function composeUnusable(): Promise<string | null> {
  const podmanMissing = await podmanUnusable();
  if (podmanMissing !== null) return podmanMissing;
  const r = await compose(['version'], {}, 30_000);
  return r.code === 0 ? null : `podman-compose does not run (scripts/install-container-deps.sh installs it): ${r.output.trim().slice(-200)}`;
}

const unusable = await composeUnusable();
if (unusable !== null) console.log(`compose test skipped: ${unusable}`);

const report = (what: string, value: unknown): void => console.log(`measured: ${what}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);

async function ourContainers(): Promise<string[]> {
  const r = await podman(['ps', '-a', '--filter', `label=io.podman.compose.project=${PROJECT}`, '--format', '{{.Names}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** The container's hostname: the webapp's `host` and its Serf / HAProxy server name. */
async function hostname(container: string): Promise<string> {
  const r = await podman(['inspect', '-f', '{{.Config.Hostname}}', container]);
  return r.stdout.trim();
}

describe('compose.yaml with podman-compose: scale up and down', { skip: unusable ?? false, timeout: 25 * 60_000 }, () => {
  let env: Record<string, string>;
  let stats: string;
  let load!: Load;
  const loads: Load[] = [];

  const upHosts = async (): Promise<string[]> =>
    (await serverTable(stats))
      .filter((r) => r.name !== 'BACKEND' && r.status === 'UP')
      .map((r) => r.name)
      .sort();

  before(async () => {
    buildImages();
    const http = await freePort();
    const statsPort = await freePort();
    env = { STACK_HTTP_PORT: String(http), STACK_STATS_PORT: String(statsPort) };
    stats = `http://127.0.0.1:${statsPort}/`;
  });

  after(async () => {
    for (const l of loads) await l.stop().catch(() => undefined);
    const names = await ourContainers();
    if (names.length > 0) await podman(['rm', '-f', '-t', '0', ...names], 120_000);
    await podman(['network', 'rm', '-f', `${PROJECT}_stack`]);
  });

  it('up -d: the balancer and WEBAPP_REPLICAS=2 webapps, both serving', async () => {
    const up = await compose(['up', '-d'], { ...env, WEBAPP_REPLICAS: '2' });
    assert.equal(up.code, 0, up.output.slice(-3000));
    assert.deepEqual(await ourContainers(), [`${PROJECT}_balancer_1`, replica(1), replica(2)].sort());
    const hosts = await Promise.all([1, 2].map((n) => hostname(replica(n))));
    await eventually('both replicas UP in HAProxy', async () => (await upHosts()).join() === [...hosts].sort().join(), 60_000);
    load = new Load({ url: `http://127.0.0.1:${env.STACK_HTTP_PORT}/`, concurrency: 4, rate: 200, durationMs: 300_000 });
    loads.push(load);
    await eventually('both replicas answering', () => hosts.every((h) => load.servedBy(h) > 0), 30_000);
  });

  it('--scale webapp=3 is ignored by podman-compose 1.0.3; WEBAPP_REPLICAS=3 up -d adds one and keeps the others', async () => {
    const before = await Promise.all([1, 2].map(async (n) => (await podman(['inspect', '-f', '{{.Id}}', replica(n)])).stdout.trim()));
    const scaled = await compose(['up', '-d', '--scale', 'webapp=3'], { ...env, WEBAPP_REPLICAS: '2' });
    assert.equal(scaled.code, 0, scaled.output.slice(-3000));
    assert.equal((await ourContainers()).length, 3, '--scale made no new replica');

    const failedBefore = load.failed;
    const t0 = Date.now();
    const up = await compose(['up', '-d'], { ...env, WEBAPP_REPLICAS: '3' });
    const upMs = Date.now() - t0;
    // The running replicas' `podman run` fails (the name is taken) and podman-compose goes on.
    assert.deepEqual(await ourContainers(), [`${PROJECT}_balancer_1`, replica(1), replica(2), replica(3)].sort(), up.output.slice(-3000));
    const third = await hostname(replica(3));
    await eventually('the third replica answering', () => load.servedBy(third) > 0, 30_000);
    report('WEBAPP_REPLICAS=3 podman-compose up -d → it returned / the new replica serves (ms)', [upMs, load.firstSeen.get(third)! - t0]);
    const after = await Promise.all([1, 2].map(async (n) => (await podman(['inspect', '-f', '{{.Id}}', replica(n)])).stdout.trim()));
    assert.deepEqual(after, before, 'the running replicas were kept, not re-created');
    assert.equal(load.failed - failedBefore, 0, `failed requests: ${load.errors.slice(0, 10).join('; ')}`);
  });

  it('scale down: podman stop of the highest replica takes it out of rotation, exit 0, no failed request', async () => {
    const failedBefore = load.failed;
    const third = await hostname(replica(3));
    const t0 = performance.now();
    const stopped = podman(['stop', '-t', '30', replica(3)], 60_000);
    await eventually('replica 3 out of rotation', async () => !(await serverTable(stats)).some((r) => r.name === third && r.status !== 'MAINT'), 15_000, 20);
    report('podman stop of a compose replica → out of rotation (ms)', Math.round(performance.now() - t0));
    assert.equal((await stopped).code, 0);
    assert.equal((await containerState(replica(3))).exitCode, 0);
    await podman(['rm', replica(3)]);
    await sleep(500);
    assert.equal(load.failed - failedBefore, 0, `failed requests: ${load.errors.slice(0, 10).join('; ')}`);
  });

  it('down -t 30: every container stops and is removed', async () => {
    const summary = await load.stop();
    report('load over the compose test', { ok: summary.ok, failed: summary.failed });
    const down = await compose(['down', '-t', '30'], { ...env, WEBAPP_REPLICAS: '2' });
    assert.equal(down.code, 0, down.output.slice(-3000));
    assert.deepEqual(await ourContainers(), []);
    assert.equal(summary.failed, 0, `failed requests: ${summary.errors.slice(0, 10).join('; ')}`);
  });
});
