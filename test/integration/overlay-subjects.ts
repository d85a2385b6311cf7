/**
 * The two inits the s6 comparison boots on the same service dirs, behind one interface: Debian's
 * s6-svscan (observed with s6-svwait, s6-svstat) and warden (observed with `warden wait`,
 * `warden status`). Each is PID 1 of its own PID and mount namespace, with the corpus tree
 * mounted where an image has it (overlay-box.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { directChildren } from '../../src/adapters/process-tree.js';
import { cli, statusOf } from './control-helpers.js';
import { eventually, REPO_ROOT, sq, WARDEN_MAIN, type Sandbox, type Warden } from './harness.js';

const SHIMS = join(REPO_ROOT, 'shims');

/**
 * How long a wait for something that must happen (a boot, a start, a stop, a command's answer)
 * may take: on a loaded machine each with-contenv script alone can take seconds, so this is a
 * bound on a hang, not on speed. Waits for what must not happen keep their short windows.
 */
export const PATIENCE_MS = 120_000;

/** A longrun as both inits see it: its name and its dir in the tree. */
export interface Longrun {
  readonly name: string;
  readonly dir: string;
}

/** What the test can ask of either init. */
export interface Subject {
  readonly label: string;
  /** Resolves once the init answers for every longrun (its supervisor runs, or warden knows it). */
  reachable(names: readonly string[]): Promise<void>;
  /** s6-svwait -u / -U, or `warden wait --up` / `--ready`: true when met within `timeoutMs`. */
  waitFor(name: string, condition: 'up' | 'ready', timeoutMs: number): Promise<boolean>;
  /**
   * The pid of the service's process inside the namespace (null when down), whether it is ready,
   * and whether the supervisor wants it up (false once it will not start it again by itself).
   */
  state(name: string): Promise<{ readonly pid: number | null; readonly ready: boolean; readonly wantedUp: boolean }>;
  /** The host pid of PID 1 of the namespace. */
  initPid(): Promise<number>;
  /** SIGTERM to PID 1, then its exit code (null when it did not exit in `timeoutMs`). */
  terminate(timeoutMs: number): Promise<number | null>;
  /** `s6-svwait FLAGS -t timeoutMs DIR…` (Debian's, or warden's shim): true when it exits 0. */
  svwait(flags: readonly string[], names: readonly string[], timeoutMs: number): Promise<boolean>;
  /** What `s6-svstat DIR` prints (Debian's, or warden's shim). */
  svstat(name: string): Promise<string>;
  /** `s6-svc FLAGS -T timeoutMs DIR` (Debian's, or warden's shim): its exit code. */
  svc(flags: readonly string[], name: string, timeoutMs: number): Promise<number>;
}

/** A process of a namespace: its pid there, its host pid and its argv. */
export interface NsCommand {
  readonly nsPid: number;
  readonly hostPid: number;
  readonly argv: readonly string[];
}

/** Every process in the PID namespace whose init has host pid `initHostPid`. */
export async function namespaceCommands(initHostPid: number): Promise<NsCommand[]> {
  const ns = await readlink(`/proc/${initHostPid}/ns/pid`);
  const found: NsCommand[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/ns/pid`)) !== ns) continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const nsPid = Number(/^NSpid:.*?(\d+)\s*$/m.exec(status)?.[1] ?? -1);
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').slice(0, -1);
      // A zombie has no cmdline: it is no program running.
      if (argv.length > 0) found.push({ nsPid, hostPid: Number(entry), argv });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

function run(file: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: PATIENCE_MS + 10_000, env: { ...process.env, ...env } }, (err, stdout) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout });
    });
  });
}

/** warden as PID 1 (booted by overlay-box.ts on the tree), seen through its CLI, its socket and the shims. */
export function wardenSubject(warden: Warden, socket: string): Subject {
  // The shims run here, outside the namespace: they reach warden through its socket.
  const shimEnv = { WARDEN_SOCKET: socket, WARDEN_CLI: `${process.execPath} ${WARDEN_MAIN}` };
  const dir = (name: string): string => `/run/service/${name}`;
  return {
    label: 'warden',
    reachable: (names) =>
      eventually(
        'warden to know every longrun',
        async () => {
          if (warden.exited) throw new Error(`warden exited during boot; ${warden.tail()}`);
          const known = await statusOf(socket).catch(() => []);
          return names.every((n) => known.some((s) => s.name === n));
        },
        PATIENCE_MS,
      ).then(() => undefined),
    waitFor: async (name, condition, timeoutMs) =>
      (await cli(socket, ['wait', `--${condition}`, '--timeout', String(timeoutMs), name], { timeoutMs: timeoutMs + 20_000 })).code === 0,
    state: async (name) => {
      const status = (await statusOf(socket, [name]))[0];
      return { pid: status?.pid ?? null, ready: status?.ready ?? false, wantedUp: status?.goal === 'up' };
    },
    initPid: () => warden.hostPid(),
    terminate: async (timeoutMs) => {
      await warden.signal('SIGTERM');
      return (await warden.waitForExit(timeoutMs)).code;
    },
    svwait: async (flags, names, timeoutMs) =>
      (await run('sh', [join(SHIMS, 's6-svwait'), ...flags, '-t', String(timeoutMs), ...names.map(dir)], shimEnv)).code === 0,
    svstat: async (name) => (await run('sh', [join(SHIMS, 's6-svstat'), dir(name)], shimEnv)).stdout,
    svc: async (flags, name, timeoutMs) => (await run('sh', [join(SHIMS, 's6-svc'), ...flags, '-T', String(timeoutMs), dir(name)], shimEnv)).code,
  };
}

/**
 * Debian's s6-svscan as PID 1 on a scan dir holding a copy of each longrun's dir, in a sandbox
 * mounted like warden's (`prelude`), with the container environment written where with-contenv
 * reads it, as s6-overlay does before it starts s6-svscan.
 */
export async function s6Subject(box: Sandbox, longruns: readonly Longrun[], prelude: string, env: Readonly<Record<string, string>>): Promise<Subject & { kill(): Promise<void> }> {
  const scan = box.path('scan');
  await mkdir(scan);
  for (const l of longruns) await cp(l.dir, join(scan, l.name), { recursive: true });
  const envDir = box.path('container_environment');
  await mkdir(envDir);
  for (const [name, value] of Object.entries(env)) await writeFile(join(envDir, name), value);
  const script = [prelude, 'mkdir -p /run/s6', `cp -R ${sq(envDir)} /run/s6/container_environment`, `exec s6-svscan ${sq(scan)}`].join('\n');
  const child: ChildProcess = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', '/bin/sh', '-ec', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let init: number | null = null;
  const initPid = async (): Promise<number> => {
    init ??= await eventually('s6-svscan to start', () => directChildren(child.pid ?? -1)[0], PATIENCE_MS, 10);
    return init;
  };
  const dir = (name: string): string => join(scan, name);
  return {
    label: 's6',
    reachable: (names) =>
      eventually(
        'an s6-supervise for every longrun',
        async () => (await Promise.all(names.map((n) => run('s6-svok', [dir(n)])))).every((r) => r.code === 0),
        PATIENCE_MS,
      ).then(() => undefined),
    waitFor: async (name, condition, timeoutMs) =>
      (await run('s6-svwait', [condition === 'up' ? '-u' : '-U', '-t', String(timeoutMs), dir(name)])).code === 0,
    state: async (name) => {
      const [up, ready, pid, wantedUp] = (await run('s6-svstat', ['-o', 'up,ready,pid,wantedup', dir(name)])).stdout.trim().split(' ');
      return { pid: up === 'true' ? Number(pid) : null, ready: ready === 'true', wantedUp: wantedUp === 'true' };
    },
    initPid,
    svwait: async (flags, names, timeoutMs) => (await run('s6-svwait', [...flags, '-t', String(timeoutMs), ...names.map(dir)])).code === 0,
    svstat: async (name) => (await run('s6-svstat', [dir(name)])).stdout,
    svc: async (flags, name, timeoutMs) => (await run('s6-svc', [...flags, '-T', String(timeoutMs), dir(name)])).code,
    terminate: async (timeoutMs) => {
      process.kill(await initPid(), 'SIGTERM');
      return Promise.race([exited, sleep(timeoutMs).then(() => null)]);
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      for (const pid of [init, child.pid]) {
        try {
          if (pid !== null && pid !== undefined) process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await Promise.race([exited, sleep(5000)]);
    },
  };
}
