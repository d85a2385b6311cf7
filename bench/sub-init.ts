/**
 * A warden the bench talks to: `warden boot` as PID 1 of its own PID namespace (unshare), every
 * path of its own (control socket, run dir, log dir) under the bench's temp dir, so it touches
 * nothing of the host and its clients find it by WARDEN_SOCKET.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { childrenOf, request, until } from './control-status.js';

export const WARDEN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The `warden` that npm installs (package.json's bin): CommonJS for the control commands' fast path. */
export const WARDEN_BIN = fileURLToPath(new URL('../src/cli/warden.cjs', import.meta.url));

export interface SubInitOptions {
  /** The dir for the socket, run and log dirs. */
  readonly dir: string;
  readonly services: string;
  /** cont-init.d; none by default. */
  readonly contInit?: string;
  /** The environment it boots with (its container environment); the bench's own by default. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface SubInit {
  readonly socket: string;
  readonly child: ChildProcess;
  /** Halts it over the socket, then kills the namespace if it lingers. Never throws. */
  stop(): Promise<void>;
}

/** Starts warden; resolves once its PID 1 has forked (not when its services are up). */
export async function startSubInit(o: SubInitOptions): Promise<SubInit> {
  const socket = join(o.dir, 'control.sock');
  const none = join(o.dir, 'none');
  const child = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, WARDEN_MAIN, 'boot', '--services', o.services, '--cont-init', o.contInit ?? none, '--cont-finish', none],
    {
      cwd: o.dir,
      env: { ...(o.env ?? process.env), WARDEN_SOCKET: socket, WARDEN_LOG_LEVEL: 'warn', WARDEN_LOG_DIR: join(o.dir, 'log'), WARDEN_RUN_DIR: join(o.dir, 'run'), WARDEN_S6_RUNTIME: '0' },
      stdio: 'ignore',
    },
  );
  child.on('error', () => {}); // seen as the missing child below
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await request(socket, { cmd: 'halt', code: 0 }).catch(() => undefined);
      await Promise.race([exited, sleep(20_000)]);
    }
    // --kill-child: the namespace's PID 1 and with it every process in it.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await until('warden to start', 10_000, 5, () => childrenOf(child.pid!)[0] ?? null);
  } catch (err) {
    await stop();
    throw err;
  }
  return { socket, child, stop };
}

/** Resolves once `count` services answer `up` (and, with `ready`, ready) over the socket. */
export async function untilUp(socket: string, count: number, ready = false): Promise<void> {
  await until(`${count} services up`, 60_000, 20, async () => {
    const reply = await request(socket, { cmd: 'status', services: [] }).catch(() => null);
    if (reply === null) return null;
    const result = (JSON.parse(reply.line) as { result?: { state: string; ready?: boolean }[] }).result ?? [];
    return result.filter((s) => s.state === 'up' && (!ready || s.ready === true)).length === count ? true : null;
  });
}
