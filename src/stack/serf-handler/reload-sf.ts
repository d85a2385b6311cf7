/**
 * The lab's way of applying a membership change, kept as an alternative apply mode of the
 * handler (`STACK_APPLY=reload-sf`) so that bench/stack-scaling.ts can run it side by side
 * with the runtime API on the same cluster, load and events: on every change, the config with
 * all servers is rendered and a *new* HAProxy process is started with
 * `haproxy -D -p PIDFILE -f CFG -sf OLDPID`. No master-worker, no runtime API, no `-x` (the
 * listeners are not handed over: the new process binds its own, SO_REUSEPORT, and the old one
 * is told to finish its sessions and exit). The running HAProxy of that mode is started and
 * followed by `haproxy-sf` (this directory), which the balancer uses as its `HAPROXY_BIN`.
 *
 * Env: STACK_APPLY (`runtime-api`, the default, or `reload-sf`), HAPROXY_SF_BIN (the real
 * haproxy binary in this mode, default `haproxy`), HAPROXY_PIDFILE (default STACK_RUN_DIR/haproxy.pid).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import { pidExists } from '../../adapters/signals.js';

export type ApplyMode = 'runtime-api' | 'reload-sf';

/** `STACK_APPLY`: how a membership change reaches HAProxy. */
export function applyMode(env: Readonly<Record<string, string | undefined>>): ApplyMode {
  const raw = env.STACK_APPLY?.trim() || 'runtime-api';
  if (raw === 'runtime-api' || raw === 'reload-sf') return raw;
  throw new Error(`STACK_APPLY=${raw}: expected runtime-api or reload-sf`);
}

export interface ReloadSfSettings {
  /** The real haproxy binary (HAPROXY_BIN is the `haproxy-sf` wrapper in this mode). */
  readonly bin: string;
  readonly pidFile: string;
  /** Where the new process's own output goes (read back when it fails to start). */
  readonly errFile: string;
}

export function reloadSfSettings(env: Readonly<Record<string, string | undefined>>, runDir: string): ReloadSfSettings {
  return {
    bin: env.HAPROXY_SF_BIN || 'haproxy',
    pidFile: env.HAPROXY_PIDFILE || join(runDir, 'haproxy.pid'),
    errFile: join(runDir, 'haproxy-sf.err'),
  };
}


/** The pid of the HAProxy process that serves now (first line of the pidfile), or null. */
export function currentPid(s: ReloadSfSettings): number | null {
  try {
    const pid = Number(readFileSync(s.pidFile, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && pidExists(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Starts `haproxy -D -p PIDFILE -f CONFIG -sf OLDPID` and resolves once the new process has
 * bound its listeners and told the old one to stop (its daemonizing parent has exited 0), and
 * answers on the admin socket. Throws with HAProxy's output when it does not start.
 */
export async function startReplacement(s: ReloadSfSettings, configPath: string, api: RuntimeApi): Promise<{ oldPid: number | null; newPid: number | null }> {
  const oldPid = currentPid(s);
  const args = ['-D', '-p', s.pidFile, '-f', configPath];
  if (oldPid !== null) args.push('-sf', String(oldPid));
  // A file, not a pipe, for its output: the daemon keeps inherited fds, and a pipe would never end.
  const errFd = openSync(s.errFile, 'w');
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(s.bin, args, { stdio: ['ignore', errFd, errFd], env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  } finally {
    closeSync(errFd);
  }
  if (code !== 0) {
    let output = '';
    try {
      output = readFileSync(s.errFile, 'utf8').trim();
    } catch {
      // none
    }
    throw new Error(`${s.bin} ${args.join(' ')} exited ${code ?? 'on a signal'}: ${output.split('\n').slice(-5).join(' | ')}`);
  }
  const newPid = currentPid(s);
  // Like the master-worker reload of the other mode: done when the new process owns the admin socket.
  for (let i = 0; i < 100 && newPid !== null; i++) {
    if ((await api.workerPid()) === newPid) break;
    await sleep(20);
  }
  return { oldPid, newPid };
}
