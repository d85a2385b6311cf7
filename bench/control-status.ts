/**
 * `warden status` with 1 000 services: how long the supervisor takes to answer over its socket
 * (a raw client, one connection per request as the CLI does), how long the whole
 * `warden status --json` process takes, and warden's RSS while it supervises them.
 * Goals: status ≤ 50 ms, RSS ≤ 120 MB.
 *
 * warden runs as PID 1 of its own PID namespace (unshare), so killing it takes every service
 * with it: nothing outlives the bench. Run standalone: `node dist/bench/control-status.js`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { statusKb } from './procs.js';
import { median, ms, p95 } from './stats.js';

const WARDEN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface ControlStatusResult {
  readonly services: number;
  /** Socket round trip of one `status` of every service (connect, request, whole reply), ms. */
  readonly statusMedianMs: number;
  readonly statusP95Ms: number;
  /** Bytes of one status reply. */
  readonly replyBytes: number;
  /** Wall time of the whole `warden status --json` process, ms. */
  readonly cliMedianMs: number;
  /** warden's VmRSS with every service up, MB. */
  readonly rssMb: number;
  /** From boot to every service up, ms. */
  readonly bootAllUpMs: number;
}

export interface ControlStatusOptions {
  readonly services?: number;
  readonly requests?: number;
  readonly cliRuns?: number;
}

export const GOALS = { statusMs: 50, rssMb: 120 } as const;

/** One request on a fresh connection; resolves with the reply line and the round trip in ms. */
export function request(socket: string, body: object, timeoutMs = 10_000): Promise<{ line: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const conn = connect(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`${socket}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.write(`${JSON.stringify({ v: 1, id: 1, ...body })}\n`));
    conn.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (!chunk.includes(10)) return;
      const elapsed = performance.now() - started;
      clearTimeout(timer);
      conn.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ line: text.slice(0, text.indexOf('\n')), ms: elapsed });
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

interface StatusReply {
  readonly ok: boolean;
  readonly result?: readonly { readonly state: string }[];
}

/** The direct children of `pid` (all its threads'). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const f of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (f !== '') out.push(Number(f));
    }
  } catch {
    // Gone, or not forked yet.
  }
  return out;
}

function vmRssMb(pid: number): number {
  const kb = statusKb(pid, 'VmRSS');
  if (kb === 0) throw new Error(`no VmRSS for pid ${pid}`);
  return kb / 1024;
}

export async function until<T>(what: string, timeoutMs: number, everyMs: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function runCli(socket: string, args: readonly string[]): Promise<{ code: number | null; ms: number; stdoutBytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [WARDEN_MAIN, ...args], {
      env: { ...process.env, WARDEN_SOCKET: socket },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let bytes = 0;
    child.stdout.on('data', (c: Buffer) => (bytes += c.length));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - started, stdoutBytes: bytes });
    });
  });
}

/** Boots warden with `services` trivial services, measures, and cleans everything up. */
export async function runControlStatusBench(opts: ControlStatusOptions = {}): Promise<ControlStatusResult> {
  const count = opts.services ?? 1000;
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-status-'));
  const servicesDir = join(dir, 'services.d');
  const socket = join(dir, 'control.sock');
  let unshare: ChildProcess | null = null;
  let wardenPid: number | null = null;
  const stderrTail: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const sdir = join(servicesDir, `svc${String(i).padStart(4, '0')}`);
      await mkdir(sdir, { recursive: true });
      await writeFile(join(sdir, 'run'), '#!/bin/sh\nexec sleep 100000\n');
      await chmod(join(sdir, 'run'), 0o755);
    }
    const booted = performance.now();
    unshare = spawn(
      'unshare',
      ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, WARDEN_MAIN, 'boot', '--services', servicesDir, '--cont-init', join(dir, 'none'), '--cont-finish', join(dir, 'none')],
      { cwd: dir, env: { ...process.env, WARDEN_SOCKET: socket, WARDEN_LOG_LEVEL: 'warn', WARDEN_S6_RUNTIME: '0' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    unshare.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderrTail.push(c);
      if (stderrTail.length > 20) stderrTail.shift();
    });
    const exited = new Promise<void>((resolve) => unshare!.once('exit', () => resolve()));
    const unsharePid = unshare.pid!;
    wardenPid = await until('warden to start', 10_000, 10, () => childrenOf(unsharePid)[0] ?? null);

    await until(`all ${count} services up`, 120_000, 200, async () => {
      if (unshare!.exitCode !== null) throw new Error(`warden exited: ${stderrTail.join('')}`);
      try {
        const reply = JSON.parse((await request(socket, { cmd: 'status', services: [] })).line) as StatusReply;
        const up = reply.result?.filter((s) => s.state === 'up').length ?? 0;
        return up === count ? true : null;
      } catch {
        return null;
      }
    });
    const bootAllUpMs = performance.now() - booted;

    // Warm up (JIT, caches), then measure one connection per request, as the CLI does.
    for (let i = 0; i < 5; i++) await request(socket, { cmd: 'status', services: [] });
    const samples: number[] = [];
    let replyBytes = 0;
    for (let i = 0; i < (opts.requests ?? 50); i++) {
      const r = await request(socket, { cmd: 'status', services: [] });
      samples.push(r.ms);
      replyBytes = Buffer.byteLength(r.line);
    }

    const cliSamples: number[] = [];
    for (let i = 0; i < (opts.cliRuns ?? 10); i++) {
      const r = await runCli(socket, ['status', '--json']);
      if (r.code !== 0) throw new Error(`warden status --json exited ${String(r.code)}`);
      cliSamples.push(r.ms);
    }

    const rssMb = vmRssMb(wardenPid);

    // A graceful halt, bounded; SIGKILL of PID 1 in finally takes the namespace anyway.
    await request(socket, { cmd: 'halt', code: 0 }).catch(() => undefined);
    await Promise.race([exited, sleep(20_000)]);

    return {
      services: count,
      statusMedianMs: median(samples),
      statusP95Ms: p95(samples),
      replyBytes,
      cliMedianMs: median(cliSamples),
      rssMb,
      bootAllUpMs,
    };
  } finally {
    if (unshare !== null && unshare.exitCode === null && unshare.signalCode === null) {
      for (const pid of [wardenPid, unshare.pid]) {
        if (pid === null || pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await Promise.race([new Promise((resolve) => unshare!.once('exit', resolve)), sleep(5000)]);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** The result as lines for people, goals marked. */
export function formatControlStatus(r: ControlStatusResult): string {
  const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
  return [
    `warden status with ${r.services} services (all up after ${ms(r.bootAllUpMs)} ms)`,
    `  socket round trip: median ${ms(r.statusMedianMs)} ms, p95 ${ms(r.statusP95Ms)} ms (${(r.replyBytes / 1024).toFixed(0)} KiB reply)  goal ≤ ${GOALS.statusMs} ms: ${mark(r.statusP95Ms <= GOALS.statusMs)}`,
    `  warden status --json, whole process: median ${ms(r.cliMedianMs)} ms`,
    `  warden RSS: ${r.rssMb.toFixed(1)} MB  goal ≤ ${GOALS.rssMb} MB: ${mark(r.rssMb <= GOALS.rssMb)}`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runControlStatusBench();
  process.stdout.write(`${formatControlStatus(result)}\n${JSON.stringify(result)}\n`);
}
