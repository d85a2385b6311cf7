/**
 * deploy/kubernetes/ for real: the manifests are checked against Kubernetes' own schema
 * (kubernetes-models), then played by `podman kube play`, a Kubernetes YAML runner: the
 * balancer's and the webapps' pods come up from them, every probe they declare passes when run in
 * its container (and podman's healthcheck made of each livenessProbe), the stack serves through
 * the balancer pod on its loopback (the load runs inside the pod's network namespace), a pod added
 * from the webapp template joins and serves, warden's metrics answer, and everything is torn down.
 *
 * What podman kube play does not do, and the test stands in for: Services (it ignores them), so
 * the headless Service's name `warden-stack-serf` that SERF_JOIN names is given to the balancer's
 * pod as a network alias (what its DNS name resolves to in Kubernetes: pods of the stack); and
 * `kubectl scale` (a pod is added by playing the webapp template under another Deployment name).
 * Readiness probes are not run by podman 4.3: the test runs each probe's command itself, healthy
 * and with a webapp crash-looping.
 * Needs root and podman; skipped with the reason when podman cannot run here.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { buildImages, eventually, podman, podmanOk, podmanUnusable, REPO, service } from './podman.js';

const DIR = join(REPO, 'deploy/kubernetes');
const NET = `wk${process.pid.toString(36)}-kube`;
const SERF_SERVICE = 'warden-stack-serf';

const unusable = await podmanUnusable();
if (unusable !== null) console.log(`kubernetes test skipped: ${unusable}`);

const report = (what: string, value: unknown): void => console.log(`measured: ${what}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);

interface Probe {
  readonly exec?: { readonly command: readonly string[] };
}
interface Container {
  readonly name: string;
  readonly image: string;
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
}
interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: {
    replicas?: number;
    readonly template?: { readonly spec: { readonly terminationGracePeriodSeconds?: number; readonly containers: readonly Container[] } };
  };
}

function manifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Manifest);
}

const deployment = (file: string): Manifest => {
  const d = manifests(file).find((m) => m.kind === 'Deployment');
  if (d === undefined) throw new Error(`${file}: no Deployment`);
  return d;
};

/** podman kube play names a Deployment's pods NAME-pod-I and their containers NAME-pod-I-CONTAINER. */
const podsOf = (d: Manifest): string[] => Array.from({ length: d.spec?.replicas ?? 1 }, (_, i) => `${d.metadata.name}-pod-${i}`);
const containerOf = (pod: string, d: Manifest): string => `${pod}-${d.spec!.template!.spec.containers[0]!.name}`;

/**
 * warden's shutdown bound for a services dir: the services stop in layers (dependents first),
 * each layer within its longest `timeout-kill`, then WARDEN_KILL_GRACETIME (3 s) for the rest.
 */
function shutdownBoundMs(servicesDir: string): number {
  const names = readdirSync(servicesDir).filter((n) => !n.startsWith('.'));
  const read = (name: string, file: string): string | null => {
    try {
      return readFileSync(join(servicesDir, name, file), 'utf8');
    } catch {
      return null;
    }
  };
  const deps = new Map(names.map((n) => [n, (read(n, 'dependencies') ?? '').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean)]));
  // A service's layer: 0 when nothing depends on it, else one more than its dependents'.
  const layer = (n: string): number => Math.max(-1, ...names.filter((m) => deps.get(m)!.includes(n)).map(layer)) + 1;
  const byLayer = new Map<number, number>();
  for (const n of names) byLayer.set(layer(n), Math.max(byLayer.get(layer(n)) ?? 0, Number(read(n, 'timeout-kill')?.trim() ?? 3000)));
  return [...byLayer.values()].reduce((a, b) => a + b, 0) + 3000;
}

/**
 * Runs `node dist/test/cluster/load-client.js` inside the pod's network namespace, against its
 * loopback, for `ms` (it stops by itself; its stdin stays open until then, as it stops when that ends).
 */
function loadInPod(pid: number, url: string, concurrency: number, ms: number): Promise<{ ok: number; failed: number; byHost: Record<string, number>; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, join(REPO, 'dist/test/cluster/load-client.js'), url, String(concurrency), String(ms), '500'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('exit', () => {
      const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { final: boolean; ok: number; failed: number; byHost: Record<string, number>; errors: string[] });
      const last = lines.find((s) => s.final);
      if (last === undefined) reject(new Error(`load in the pod gave no final report: ${err}`));
      else resolve({ ...last, errors: lines.flatMap((l) => l.errors) });
    });
  });
}

describe('deploy/kubernetes: the manifests, played by podman kube play', { skip: unusable ?? false, timeout: 120 * 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'warden-kube-'));
  const played: string[] = [];
  const balancer = deployment('balancer.yaml');
  const webapp = deployment('webapp.yaml');
  const balancerContainer = containerOf(podsOf(balancer)[0]!, balancer);

  /** `podman kube play` of a manifest file on the test's network, with the ConfigMap; `down` undoes it. */
  const play = async (file: string, alias?: string): Promise<string> => {
    played.push(file);
    return podmanOk(['kube', 'play', '--network', alias === undefined ? NET : `${NET}:alias=${alias}`, '--configmap', join(DIR, 'configmap.yaml'), file], 180_000);
  };

  before(async () => {
    buildImages();
    // Pods of an earlier run that died before its teardown.
    for (const file of ['balancer.yaml', 'webapp.yaml']) await podman(['kube', 'down', join(DIR, file)], 120_000);
    await podmanOk(['network', 'create', NET]);
  });

  after(async () => {
    for (const file of played.reverse()) {
      const r = await podman(['kube', 'down', file], 120_000);
      if (r.code !== 0) console.log(`kube down ${file}: ${r.stderr.trim()}`);
    }
    await podman(['network', 'rm', '-f', NET]);
    rmSync(work, { recursive: true, force: true });
  });

  it('every object passes Kubernetes’ schema; every container has liveness and readiness probes calling `warden health`', () => {
    const kinds = { Deployment, Service, ConfigMap } as const;
    const all = ['configmap.yaml', 'balancer.yaml', 'webapp.yaml'].flatMap((f) => manifests(f).map((m) => ({ f, m })));
    for (const { f, m } of all) {
      const Model = kinds[m.kind as keyof typeof kinds];
      assert.ok(Model !== undefined, `${f}: unexpected kind ${m.kind}`);
      assert.doesNotThrow(() => new Model(m as never).validate(), `${f}: ${m.kind} ${m.metadata.name}`);
    }
    assert.deepEqual(all.map(({ m }) => `${m.kind}/${m.metadata.name}`).sort(), ['ConfigMap/warden-stack', 'Deployment/balancer', 'Deployment/webapp', `Service/${SERF_SERVICE}`, 'Service/balancer'].sort());
    for (const d of [balancer, webapp]) {
      for (const c of d.spec!.template!.spec.containers) {
        for (const probe of [c.livenessProbe, c.readinessProbe]) assert.deepEqual(probe?.exec?.command.slice(0, 2), ['warden', 'health'], `${d.metadata.name}/${c.name}: a probe that is not warden health`);
      }
    }
  });

  it('terminationGracePeriodSeconds covers warden’s whole shutdown, and by no more than 5 s', () => {
    for (const [d, role] of [[balancer, 'balancer'], [webapp, 'backend']] as const) {
      const boundS = shutdownBoundMs(join(REPO, 'services.d', role)) / 1000;
      const grace = d.spec!.template!.spec.terminationGracePeriodSeconds ?? 30;
      report(`${d.metadata.name}: warden's shutdown bound / grace period, s`, `${boundS} / ${grace}`);
      assert.ok(grace >= boundS && grace <= boundS + 5, `${d.metadata.name}: terminationGracePeriodSeconds ${grace}, warden may take ${boundS} s`);
    }
  });

  it('the balancer and the webapps come up from the manifests; every probe passes', async () => {
    const t0 = Date.now();
    await play(join(DIR, 'balancer.yaml'), SERF_SERVICE);
    await play(join(DIR, 'webapp.yaml'));
    const containers = [...podsOf(balancer).map((p) => containerOf(p, balancer)), ...podsOf(webapp).map((p) => containerOf(p, webapp))];
    assert.equal(containers.length, 1 + (webapp.spec?.replicas ?? 1));
    for (const [d, pods] of [[balancer, podsOf(balancer)], [webapp, podsOf(webapp)]] as const) {
      for (const pod of pods) {
        const container = containerOf(pod, d);
        const spec = d.spec!.template!.spec.containers[0]!;
        for (const [kind, probe] of [['readiness', spec.readinessProbe], ['liveness', spec.livenessProbe]] as const) {
          const command = probe!.exec!.command;
          await eventually(`${container}: ${kind} probe \`${command.join(' ')}\` passes`, async () => (await podman(['exec', container, ...command], 30_000)).code === 0, 60_000, 250).catch(async (err: Error) => {
            const r = await podman(['exec', container, ...command], 30_000);
            throw new Error(`${err.message}: ${r.stdout}${r.stderr}\n${(await podman(['logs', '--tail', '30', container])).stdout}`);
          });
        }
        // What podman made of the livenessProbe: a healthcheck running the same command.
        const hc = await podman(['healthcheck', 'run', container], 60_000);
        assert.equal(hc.code, 0, `${container}: podman healthcheck run → ${hc.code} ${hc.stdout}${hc.stderr}`);
        const state = (await podmanOk(['inspect', '--format', '{{.State.Status}} {{.State.Health.Status}}', container])).trim();
        assert.equal(state, 'running healthy', `${container}: ${state}`);
      }
    }
    report('kube play → every probe passing, ms', Date.now() - t0);
    const pid1 = (await podmanOk(['exec', balancerContainer, 'cat', '/proc/1/comm'])).trim();
    report('PID 1 in the balancer container', pid1);
  });

  it('the balancer pod serves the webapp pods on its loopback, and a pod added from the template joins', async () => {
    const pid = Number((await podmanOk(['inspect', '--format', '{{.State.Pid}}', balancerContainer])).trim());
    const hosts = podsOf(webapp);
    await eventually('both webapp pods in HAProxy', async () => {
      const s = await loadInPod(pid, 'http://127.0.0.1:80/', 4, 1000);
      return hosts.every((h) => (s.byHost[h] ?? 0) > 0);
    }, 90_000, 500);
    const steady = await loadInPod(pid, 'http://127.0.0.1:80/', 8, 4000);
    report('through the balancer pod, 8 keep-alive connections for 4 s', { ok: steady.ok, failed: steady.failed, byHost: steady.byHost });
    assert.equal(steady.failed, 0, steady.errors.join('; '));
    assert.deepEqual(Object.keys(steady.byHost).sort(), hosts.sort());

    // One more pod of the webapp template, as `kubectl scale deployment/webapp --replicas=3` adds.
    const extra = join(work, 'webapp-extra.yaml');
    const docs = manifests('webapp.yaml').filter((m) => m.kind === 'Deployment');
    const scaled = { ...docs[0]!, metadata: { ...docs[0]!.metadata, name: 'webapp-extra' }, spec: { ...docs[0]!.spec, replicas: 1 } };
    writeFileSync(extra, stringify(scaled));
    const t0 = Date.now();
    await play(extra);
    const added = 'webapp-extra-pod-0';
    await eventually(`${added} answering through the balancer`, async () => ((await loadInPod(pid, 'http://127.0.0.1:80/', 4, 1000)).byHost[added] ?? 0) > 0, 120_000, 250);
    report('kube play of one more webapp pod → it answers through the balancer, ms', Date.now() - t0);
  });

  it('warden’s metrics answer on every pod (WARDEN_METRICS_ADDR from the ConfigMap)', async () => {
    const pid = Number((await podmanOk(['inspect', '--format', '{{.State.Pid}}', balancerContainer])).trim());
    const r = spawnSync('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', `fetch('http://127.0.0.1:9100/metrics').then(async (r) => { process.stdout.write(await r.text()); })`], { encoding: 'utf8', timeout: 30_000 });
    for (const service of ['haproxy', 'serf', 'serf-handler']) assert.match(r.stdout, new RegExp(`^warden_service_up\\{service="${service}"\\} 1$`, 'm'), r.stdout.slice(0, 2000) + r.stderr);
    const stats = await podmanOk(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}}', balancerContainer, ...podsOf(webapp).map((p) => containerOf(p, webapp))]);
    report('podman stats (idle)', stats.trim().split('\n').join('; '));
  });

  // podman 4.3 runs no probe by itself (only the healthcheck it makes of a livenessProbe, on a
  // timer): the probes' command is run here as the kubelet would, in the container, and judged
  // by its exit code, healthy and then with the webapp crash-looping.
  it('the probes’ command, run in a webapp container, exits 0 when healthy, 1 while its webapp crash-loops, 0 once it recovers', async () => {
    const container = containerOf('webapp-extra-pod-0', webapp);
    const spec = webapp.spec!.template!.spec.containers[0]!;
    const commands = [spec.readinessProbe!.exec!.command, spec.livenessProbe!.exec!.command];
    const probe = async (command: readonly string[]): Promise<{ code: number; output: string }> => {
      const r = await podman(['exec', container, ...command], 30_000);
      return { code: r.code, output: `${r.stdout}${r.stderr}` };
    };
    for (const command of commands) {
      const healthy = await probe(command);
      assert.equal(healthy.code, 0, `healthy: \`${command.join(' ')}\` → ${healthy.code}: ${healthy.output}`);
    }
    // Five quick deaths make a crash loop (src/core/backoff.ts). A killer inside the container
    // kills the webapp each time it is up again, as long as its marker file is there: its kills
    // wait for no podman exec (seconds here), and the loop lasts while the probes are run.
    const marker = '/tmp/warden-test-crash-loop';
    await podmanOk(['exec', container, 'touch', marker]);
    await podmanOk(['exec', '-d', container, 'sh', '-c',
      `while [ -e ${marker} ]; do warden wait --up --timeout 30000 webapp >/dev/null && warden signal KILL webapp >/dev/null; sleep 0.2; done`]);
    await eventually('the webapp in a crash loop', async () => (await service(container, 'webapp')).crashLoop, 300_000, 1000);
    for (const command of commands) {
      const looping = await probe(command);
      assert.equal(looping.code, 1, `crash-looping: \`${command.join(' ')}\` → ${looping.code}: ${looping.output}`);
      assert.match(looping.output, /^webapp: crash loop \(\d+ quick deaths, last killed by SIGKILL\)$/m);
      report('the probe with the webapp crash-looping', looping.output.trim().split('\n').join('; '));
    }
    // What podman does itself with the livenessProbe it made a healthcheck of, for docs/kubernetes.md.
    report('podman healthcheck of the livenessProbe: command, interval, on failure',
      (await podmanOk(['inspect', '--format', '{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} {{.Config.HealthcheckOnFailureAction}}', container])).trim());
    await podmanOk(['exec', container, 'rm', '-f', marker]);
    // The loop ends once the webapp has run restart-reset (10 s) without dying.
    const t0 = Date.now();
    await eventually('the probe passing again', async () => (await probe(commands[0]!)).code === 0, 300_000, 1000);
    report('crash loop → probe passing again, ms', Date.now() - t0);
    for (const command of commands) assert.equal((await probe(command)).code, 0);
  });
});
