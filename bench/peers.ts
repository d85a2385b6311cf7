/**
 * How each supervisor is started on a dir of service dirs and stopped again, configured as
 * plainly as its own docs say. Every instance runs in its own process group, with its own
 * working dir under the bench's temp dir, so a sweep by cwd finds anything left behind.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, pidsWithCwdUnder } from './procs.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The compiled CLI, next to the compiled bench (dist/bench → dist/src/cli). */
export const WARDEN_CLI = join(here, '..', 'src', 'cli', 'main.js');
const FLOOR = join(here, 'floor.js');
/**
 * The release's tree as `npm run dist` staged it: release/.work-ARCH/root/opt/warden, and
 * release/.work-ARCH-snapshot/… and -no-code-cache/… for the executable that starts from a V8
 * startup snapshot or without its script's code cache (`node scripts/dist.mjs --snapshot`,
 * `--no-code-cache`). Its executable names /opt/warden/lib/… as its ELF
 * interpreter, which this machine need not have: the bench starts it through that loader, given
 * by path, as the kernel would.
 */
const releaseOpt = (variant: string) => join(here, '..', '..', 'release', `.work-${process.arch}${variant}`, 'root', 'opt', 'warden');
/**
 * The release's Nodes (npm packages node-linux-ARCH, as scripts/dist.mjs caches them, one per
 * version it built with): `node dist/...` and the floor on each, so that an executable is
 * compared with its own Node.
 */
const RELEASE_NODES = (() => {
  const cache = join(here, '..', '..', 'node_modules', '.cache', 'warden-dist');
  const dirs = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith('node-') && d.endsWith(`-${process.arch}`)) : [];
  return dirs
    .map((dir) => ({ bin: join(cache, dir, 'node_modules', `node-linux-${process.arch}`, 'bin', 'node'), version: dir.split('-')[1]! }))
    .filter((node) => existsSync(node.bin))
    .sort((a, b) => Number.parseInt(b.version, 10) - Number.parseInt(a.version, 10));
})();

/**
 * The one service every supervisor runs: announce the pid without a fork, then exec. With
 * `notificationFd`, it also reports readiness on that fd (a builtin echo, still no fork).
 */
export function runScript(fifo: string, notificationFd?: number): string {
  const ready = notificationFd === undefined ? '' : `echo >&${notificationFd}\n`;
  return `#!/bin/sh\necho $$ > ${fifo}\n${ready}exec sleep 100000\n`;
}

/** Creates `root/services/NAME/run` (and `notification-fd` if asked) for each name. */
export function makeServices(root: string, names: readonly string[], fifo: string, notificationFd?: number): string[] {
  return names.map((name) => {
    const dir = join(root, 'services', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'run'), runScript(fifo, notificationFd), { mode: 0o755 });
    if (notificationFd !== undefined) writeFileSync(join(dir, 'notification-fd'), `${notificationFd}\n`);
    return dir;
  });
}

export interface Instance {
  /** The supervisor's root process (for tini/sh: tini/the service). */
  readonly child: ChildProcess;
  /** Stops gracefully, then kills the group and everything under `root`. Never throws. */
  stop(): Promise<void>;
}

export interface Peer {
  readonly name: string;
  /** Takes part in the kill -9 and RSS measurements (tini and sh only boot one program). */
  readonly supervises: boolean;
  /** The service reports readiness on this fd (s6's notification-fd); else the plain script. */
  readonly notificationFd?: number;
  launch(root: string, serviceDirs: readonly string[]): Instance;
}

/** warden from the release tarball: Node's single executable application with its own C libraries. */
function releasePeer(name: string, opt: string): Peer {
  const lib = join(opt, 'lib');
  const loader = join(lib, readdirSync(lib).find((f) => f.startsWith('ld-linux'))!);
  return wardenPeer(name, loader, ['--library-path', lib, join(opt, 'bin', 'warden')]);
}

/** warden as `NODE dist/src/cli/main.js boot`. */
function wardenOn(name: string, node: string): Peer {
  return wardenPeer(name, node, [WARDEN_CLI]);
}

/** `PROGRAM ...ARGS boot --services ROOT/services`, stopped by SIGTERM. */
function wardenPeer(name: string, program: string, args: readonly string[]): Peer {
  return {
    name,
    supervises: true,
    launch(root) {
      // Its runtime dir and socket in the round's root, and no s6-overlay runtime: the bench
      // shares the host's /run, where /run/s6 and /run/service must not be left behind.
      const env = {
        ...process.env,
        WARDEN_LOG_LEVEL: 'warn',
        WARDEN_RUN_DIR: join(root, 'run'),
        WARDEN_SOCKET: join(root, 'control.sock'),
        WARDEN_S6_RUNTIME: '0',
      };
      const child = start(root, program, [...args, 'boot', '--services', join(root, 'services')], root, env);
      return instance(root, child, () => signal(child.pid, 'SIGTERM'));
    },
  };
}

/** The floor (floor.ts) on `node`. */
function floorOn(name: string, node: string): Peer {
  return {
    name,
    supervises: true,
    launch(root, serviceDirs) {
      const child = start(root, node, [FLOOR, ...serviceDirs.map((d) => join(d, 'run'))], root);
      return instance(root, child, () => signal(child.pid, 'SIGTERM'));
    },
  };
}

/**
 * The rows that exist on this machine besides the fixed ones: the release's, when built, with
 * every variant scripts/dist.mjs staged (--no-code-cache, --snapshot, --node, --flags).
 */
function releasePeers(): Record<string, Peer> {
  const out: Record<string, Peer> = {};
  const add = (peer: Peer) => (out[peer.name] = peer);
  for (const node of RELEASE_NODES) add(wardenOn(`warden (node ${node.version})`, node.bin));
  const release = join(here, '..', '..', 'release');
  const staged = existsSync(release) ? readdirSync(release).filter((d) => d === `.work-${process.arch}` || d.startsWith(`.work-${process.arch}-`)) : [];
  for (const dir of staged.sort()) {
    const variant = dir.slice(`.work-${process.arch}`.length);
    if (existsSync(join(releaseOpt(variant), 'bin', 'warden'))) add(releasePeer(variantName(variant), releaseOpt(variant)));
  }
  for (const node of RELEASE_NODES) add(floorOn(`node ${node.version} floor`, node.bin));
  return out;
}

/** A staged variant's row: `-no-code-cache-node22.23.5` → "warden (one executable) − code cache node 22.23.5". */
function variantName(variant: string): string {
  const parts = variant
    .replace(/^-no-code-cache/, ' − code cache')
    .replace(/^-snapshot/, ' + snapshot')
    .replace(/-node(\d[\d.]*)/, ' node $1')
    .replace(/-flags-(.*)$/, ' +$1');
  return `${RELEASE_EXECUTABLE}${parts}`;
}

/** The release's single executable's row. */
export const RELEASE_EXECUTABLE = 'warden (one executable)';

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGKILLs whatever still runs with its cwd under `root` (services in their own sessions). */
export function sweep(root: string): void {
  for (let round = 0; round < 3; round++) {
    const left = pidsWithCwdUnder(root);
    if (left.length === 0) return;
    for (const pid of left) signal(pid, 'SIGKILL');
  }
}

function start(root: string, file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const log = openSync(join(root, 'supervisor.log'), 'a');
  try {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
    child.on('error', () => {}); // reported through the missing pid line
    return child;
  } finally {
    closeSync(log);
  }
}

function instance(root: string, child: ChildProcess, gracefulStop: () => void, graceMs = 5000): Instance {
  return {
    child,
    async stop() {
      try {
        gracefulStop();
      } catch {
        // fall through to the kill
      }
      const exited = await waitExit(child, graceMs);
      if (!exited && child.pid !== undefined) signal(-child.pid, 'SIGKILL');
      await waitExit(child, 1000);
      // Give s6-supervise / runsv a moment to take their services down on their own.
      for (let i = 0; i < 20 && pidsWithCwdUnder(root).some(alive); i++) await new Promise((r) => setTimeout(r, 50));
      sweep(root);
    },
  };
}

export const PEERS: Record<string, Peer> = {
  warden: wardenOn('warden', process.execPath),
  ...releasePeers(),
  's6-svscan': {
    name: 's6-svscan',
    supervises: true,
    launch(root) {
      const scandir = join(root, 'services');
      const child = start(root, 's6-svscan', [scandir], root);
      // -t: s6-svscan tells every s6-supervise to bring its service down and exit, then exits.
      return instance(root, child, () => void execFile('s6-svscanctl', ['-t', scandir], () => {}));
    },
  },
  /**
   * s6-supervise (2.11) waits 1 s after every death unless the service became ready (via
   * notification-fd) more than 1 s before it died: the plain script always gets the 1 s wait.
   * This variant shows s6's fast path; its script adds `echo >&3` and nothing else.
   */
  's6 +notification-fd': {
    name: 's6 +notification-fd',
    supervises: true,
    notificationFd: 3,
    launch(root) {
      const scandir = join(root, 'services');
      const child = start(root, 's6-svscan', [scandir], root);
      return instance(root, child, () => void execFile('s6-svscanctl', ['-t', scandir], () => {}));
    },
  },
  runsvdir: {
    name: 'runsvdir',
    supervises: true,
    launch(root) {
      const child = start(root, 'runsvdir', [join(root, 'services')], root);
      // HUP: runsvdir sends TERM to each runsv (which stops its service) and exits.
      return instance(root, child, () => signal(child.pid, 'SIGHUP'));
    },
  },
  supervisord: {
    name: 'supervisord',
    supervises: true,
    launch(root, serviceDirs) {
      const conf = join(root, 'supervisord.conf');
      const programs = serviceDirs.map(
        (dir, i) => `[program:svc${i}]\ncommand=${join(dir, 'run')}\ndirectory=${dir}\nautorestart=true\nstartsecs=0\n`,
      );
      writeFileSync(
        conf,
        `[supervisord]\nnodaemon=true\nlogfile=${join(root, 'supervisord.log')}\npidfile=${join(root, 'supervisord.pid')}\n` +
          `childlogdir=${root}\n\n${programs.join('\n')}`,
      );
      const child = start(root, 'supervisord', ['-n', '-c', conf], root);
      return instance(root, child, () => signal(child.pid, 'SIGTERM'));
    },
  },
  'node floor': floorOn('node floor', process.execPath),
  tini: {
    name: 'tini',
    supervises: false,
    launch(root, serviceDirs) {
      const dir = serviceDirs[0]!;
      // -s: register as a subreaper, since the bench, not tini, is PID 1 here.
      const child = start(root, 'tini', ['-s', '--', './run'], dir);
      return instance(root, child, () => signal(child.pid, 'SIGTERM'), 2000);
    },
  },
  sh: {
    name: 'sh',
    supervises: false,
    launch(root, serviceDirs) {
      const dir = serviceDirs[0]!;
      const child = start(root, 'sh', ['run'], dir);
      return instance(root, child, () => signal(child.pid, 'SIGTERM'), 2000);
    },
  },
};
