/**
 * Helpers for testing the control socket and the CLI against a real warden: run `warden …` as a
 * child process with its own WARDEN_SOCKET, talk raw NDJSON to the socket, and read `status`.
 * Built on the PID 1 harness (Sandbox, Warden); every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import type { ServiceStatus } from '../../src/protocol/service-status.js';
import { eventually, Sandbox, WARDEN_MAIN, type ServiceDef, type Warden } from './harness.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the whole process, ms. */
  readonly ms: number;
}

export interface CliOptions {
  /** Run as this user (and its primary group) through setpriv; root when absent. */
  readonly user?: { readonly name: string; readonly group: string };
  /** SIGKILL the CLI after this long (the result then has signal SIGKILL): a hang guard, not a bound. */
  readonly timeoutMs?: number;
  /** The CLI's entry script; default the build's dist/src/cli/main.js. */
  readonly main?: string;
}

/** Runs `warden ARGS…` with WARDEN_SOCKET=socket; never hangs past `timeoutMs`. */
export function cli(socket: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  // Always explicit: a test must never reach a warden on the default socket.
  env.WARDEN_SOCKET = socket;
  const node = [process.execPath, opts.main ?? WARDEN_MAIN, ...args];
  const [file, ...argv] = opts.user
    ? ['setpriv', `--reuid=${opts.user.name}`, `--regid=${opts.user.group}`, '--clear-groups', ...node]
    : node;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file!, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** A failure message showing everything the CLI said. */
export function show(r: CliResult): string {
  return `exit ${String(r.code)}${r.signal ? ` (${r.signal})` : ''} after ${Math.round(r.ms)} ms\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

export interface RawExchange {
  /** Each reply line, parsed (or the raw text when it is not JSON). */
  readonly replies: unknown[];
  /** The server closed (or reset) the connection before we gave up. */
  readonly closed: boolean;
  /** A socket error seen, e.g. EPIPE or ECONNRESET after the server closed. */
  readonly error: string | null;
}

/**
 * Connects, writes `data`, and collects reply lines until `lines` have come, the server closes,
 * or `timeoutMs` passes; then disconnects.
 */
export function rawExchange(socket: string, data: string | Buffer, opts: { lines?: number; timeoutMs?: number } = {}): Promise<RawExchange> {
  const want = opts.lines ?? 1;
  return new Promise((resolve) => {
    const conn = connect(socket);
    const replies: unknown[] = [];
    let buffered = '';
    let error: string | null = null;
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve({ replies, closed, error });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(data));
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          replies.push(JSON.parse(text));
        } catch {
          replies.push(text);
        }
      }
      if (replies.length >= want) finish(false);
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    conn.on('close', () => finish(true));
  });
}

/** An error reply's code, or null when `reply` is not one. */
export function errorCode(reply: unknown): string | null {
  if (typeof reply !== 'object' || reply === null) return null;
  const r = reply as { ok?: unknown; error?: { code?: unknown } };
  return r.ok === false && typeof r.error?.code === 'string' ? r.error.code : null;
}

/** `status` over the raw socket (fast: no CLI process); throws on an error reply. */
export async function statusOf(socket: string, services: readonly string[] = [], opts: { timeoutMs?: number } = {}): Promise<ServiceStatus[]> {
  const { replies } = await rawExchange(socket, `${JSON.stringify({ v: 1, id: 's', cmd: 'status', services })}\n`, opts);
  const reply = replies[0] as { ok?: boolean; result?: unknown } | undefined;
  if (reply?.ok !== true || !Array.isArray(reply.result)) throw new Error(`status failed: ${JSON.stringify(replies)}`);
  return reply.result as ServiceStatus[];
}

/** The named service's status; throws if it is not listed. */
export async function serviceOf(socket: string, name: string): Promise<ServiceStatus> {
  const found = (await statusOf(socket)).find((s) => s.name === name);
  if (found === undefined) throw new Error(`${name} is not in status`);
  return found;
}

/** name → pid of every service, from one status. */
export async function pidsOf(socket: string): Promise<Record<string, number | null>> {
  return Object.fromEntries((await statusOf(socket)).map((s) => [s.name, s.pid]));
}

export interface Running {
  readonly box: Sandbox;
  readonly warden: Warden;
  readonly socket: string;
}

/**
 * A warden as PID 1 on a fresh sandbox with `services`, its socket in the sandbox; returns once
 * `status` answers and every service not marked `down` is up (or `settled` says so). Killed
 * and removed after the test.
 */
export async function startWarden(
  t: TestContext,
  services: Readonly<Record<string, ServiceDef>>,
  settled: (statuses: readonly ServiceStatus[]) => boolean = (all) =>
    all.every((s) => s.state === 'up' || (s.goal === 'down' && s.state === 'down')),
  env: Readonly<Record<string, string>> = {},
): Promise<Running> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  // Others may walk to the socket, so that the socket's own mode is what keeps them out.
  await chmod(box.dir, 0o755);
  for (const [name, def] of Object.entries(services)) await box.service(name, def);
  const socket = box.path('run', 'control.sock');
  const warden = box.boot({ env: { ...env, WARDEN_SOCKET: socket } });
  await eventually(
    'warden to answer status with every service settled',
    async () => {
      if (warden.exited) throw new Error(`warden exited during boot; ${warden.tail()}`);
      try {
        const all = await statusOf(socket);
        return all.length === Object.keys(services).length && settled(all);
      } catch {
        return false;
      }
    },
    15_000,
    50,
  );
  // Tests that time their own changes need the watcher on, and its catch-up rescan done.
  await warden.waitForEvent((e) => e.event === 'watching', 15_000, 'the dir watcher to start');
  return { box, warden, socket };
}

export const LONG_RUN = 'exec sleep 100000';

/**
 * A run script's path to a file `name` in the sandbox's own dir: it runs in its runtime dir,
 * SANDBOX/run/service/NAME (outside the service dir: no rescan sees the file appear).
 */
export const inSandbox = (name: string): string => `../../../${name}`;
