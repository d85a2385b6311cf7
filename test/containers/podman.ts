/** Small helpers around the podman CLI for the container test. */
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `podman ARGS…`, never throwing; a command that outlives `timeoutMs` is killed (code -1). */
export function podman(args: readonly string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile('podman', args, { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as { code: number }).code) : -1;
      const cleaned = stderr.replace(/^.*failed to connect to syslog.*$\n?/gm, '');
      resolve({ code, stdout, stderr: code === -1 && err !== null ? `${cleaned}${err.message}` : cleaned });
    });
  });
}

/** Runs `podman ARGS…` and returns its stdout; throws with its stderr when it fails. */
export async function podmanOk(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} → ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** The repository's root (the tests run from dist/test/containers). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Builds the stack's images with scripts/build-images.sh, or finds them up to date (quick). Every
 * test that starts containers calls it first: on a fresh machine there are none, and podman-compose
 * 1.0.3 exits 0 even when it cannot find an image.
 */
export function buildImages(): void {
  // Only a hung build is cut: a new release and both images took over 15 min on a 2-core machine
  // at load average 30 (the release alone ~15 min of it).
  const build = spawnSync('bash', [join(REPO, 'scripts/build-images.sh')], { cwd: REPO, encoding: 'utf8', timeout: 90 * 60_000 });
  if (build.status !== 0) throw new Error(`scripts/build-images.sh failed:\n${(build.stdout + build.stderr).slice(-4000)}`);
}

/** Why podman cannot run containers here, or null when it can. */
export async function podmanUnusable(): Promise<string | null> {
  const r = await podman(['info', '--format', '{{.Host.OCIRuntime.Name}}'], 30_000).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
  if (r.code === -1 && /ENOENT/.test(r.stderr + r.stdout)) return 'podman is not installed (scripts/install-container-deps.sh installs it)';
  if (r.code !== 0) return `\`podman info\` fails: ${r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`}`;
  return null;
}

/** One service of `warden status --json` inside a container. */
export interface ServiceStatus {
  readonly name: string;
  readonly state: string;
  readonly pid: number | null;
  readonly ready: boolean;
  readonly restarts: number;
  readonly lastExit: { code?: number; signal?: string } | null;
  readonly crashLoop: boolean;
}

export async function wardenStatus(container: string): Promise<ServiceStatus[]> {
  const out = await podmanOk(['exec', container, 'warden', 'status', '--json'], 20_000);
  const parsed = JSON.parse(out) as ServiceStatus[] | { services: ServiceStatus[] };
  return Array.isArray(parsed) ? parsed : parsed.services;
}

export async function service(container: string, name: string): Promise<ServiceStatus> {
  const s = (await wardenStatus(container)).find((x) => x.name === name);
  if (s === undefined) throw new Error(`${container}: no service ${name}`);
  return s;
}

/** Serf's members as the given container's agent sees them: name → status. */
export async function serfMembers(container: string): Promise<Map<string, string>> {
  const out = await podmanOk(['exec', container, 'serf', 'members', '-format=json'], 20_000);
  const parsed = JSON.parse(out) as { members: { name: string; status: string }[] };
  return new Map(parsed.members.map((m) => [m.name, m.status]));
}

export interface Exited {
  readonly status: string;
  readonly exitCode: number;
  readonly oomKilled: boolean;
}

export async function containerState(container: string): Promise<Exited> {
  const out = await podmanOk(['inspect', '--format', '{{json .State}}', container]);
  const s = JSON.parse(out) as { Status: string; ExitCode: number; OOMKilled: boolean };
  return { status: s.Status, exitCode: s.ExitCode, oomKilled: s.OOMKilled };
}

/** The last lines of a container's log (warden's JSON lines and the services' prefixed lines). */
export async function logs(container: string, lines = 40): Promise<string> {
  const r = await podman(['logs', '--tail', String(lines), container], 20_000);
  return (r.stdout + r.stderr).trim();
}

/** Polls `check` until it returns true; throws `what` (with the last error) after timeoutMs. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<number> {
  const started = performance.now();
  let last = '';
  for (;;) {
    try {
      if (await check()) return performance.now() - started;
      last = '';
    } catch (err) {
      last = (err as Error).message;
    }
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(everyMs);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
