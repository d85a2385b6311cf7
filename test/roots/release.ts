/**
 * The release tarball (`npm run dist`) in a root made of Debian packages that is not Debian:
 * busybox-static alone, or musl plus busybox-static's shell. What the roots tests share: making
 * the root, and booting its /init as PID 1 and checking it from inside.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { ServiceStatus } from '../../src/protocol/service-status.js';
import { eventually, REPO_ROOT, Sandbox } from '../integration/harness.js';

const run = promisify(execFile);

/** The release for an architecture, as `npm run dist` (`--arch ARCH`) writes it. */
export const releaseOf = (arch: string): string => join(REPO_ROOT, 'release', `warden-linux-${arch}.tar.xz`);
/** The release for this machine's architecture. */
export const RELEASE = releaseOf(process.arch);
/** Debian's musl: its libc is also its dynamic loader. */
const MUSL_LIBC = `/usr/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-musl/libc.so`;
const MUSL_LOADER = `ld-musl-${process.arch === 'x64' ? 'x86_64' : 'aarch64'}.so.1`;
const PATH = '/command:/usr/bin:/bin';
/** An image's NODE_OPTIONS for its own Node programs, which would stop any Node that read it. */
const APP_NODE_OPTIONS = '--require /nonexistent/preload.js';

/** A root's makings: which release, which static busybox, and how its /init shows in /proc (argv[0]). */
export interface RootKind {
  readonly release: string;
  readonly busybox: string;
  /** argv[0] of the booted /init as the host sees it: `/init`, or an emulator's path under binfmt_misc. */
  readonly initArgv0: string;
}

/** This machine's arch: its release and Debian's busybox-static. */
export const NATIVE: RootKind = { release: RELEASE, busybox: '/bin/busybox', initArgv0: '/init' };

/** Throws, saying what to install or run, when the tools or the release are missing. */
export function needs(...what: ('release' | 'busybox' | 'musl')[]): void {
  if (what.includes('release') && !existsSync(RELEASE)) {
    throw new Error(`${relative(REPO_ROOT, RELEASE)} is missing: run \`npm run dist\` (scripts/test.sh does)`);
  }
  if (what.includes('busybox') && !existsSync('/bin/busybox')) throw new Error('/bin/busybox is missing: apt-get install busybox-static (scripts/install-dist-deps.sh)');
  if (what.includes('musl') && !existsSync(MUSL_LIBC)) throw new Error(`${MUSL_LIBC} is missing: apt-get install musl-tools (scripts/install-dist-deps.sh)`);
}

/**
 * Makes `root` a busybox root: a static busybox (no C library at all) and its applets as links,
 * the dirs a container runtime provides, and the release unpacked at /.
 */
export async function busyboxRoot(root: string, kind: RootKind = NATIVE): Promise<void> {
  for (const dir of ['bin', 'dev', 'proc', 'run', 'tmp', 'etc']) await mkdir(join(root, dir), { recursive: true });
  await copyFile(kind.busybox, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  const { stdout } = await run(kind.busybox, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await run('tar', ['-C', root, '-xJf', kind.release]);
}

/** Adds musl to `root` where Alpine has it (/lib/ld-musl-ARCH.so.1) and builds `source` into `output` with musl-gcc. */
export async function addMusl(root: string, source: string, output: string): Promise<void> {
  await mkdir(join(root, 'lib'), { recursive: true });
  await copyFile(MUSL_LIBC, join(root, 'lib', MUSL_LOADER));
  await chmod(join(root, 'lib', MUSL_LOADER), 0o755);
  await run('musl-gcc', ['-O2', '-o', output, source]);
}

/** Every file of `root` outside /opt/warden that is a glibc loader or library, or a Node: none may be there. */
export async function foreignRuntimes(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (relative(root, path) === 'opt/warden' || relative(root, path) === 'proc' || relative(root, path) === 'dev') continue;
      if (entry.isDirectory()) await walk(path);
      else if (/^(ld-linux.*|libc\.so\.6|node)$/.test(entry.name)) found.push(`/${relative(root, path)}`);
    }
  };
  await walk(root);
  return found;
}

/** A sandbox with a busybox root in it: the release, a cont-init.d script and service alpha. */
export async function makeRoot(t: TestContext, kind: RootKind = NATIVE): Promise<{ box: Sandbox; root: string }> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const root = box.path('root');
  await busyboxRoot(root, kind);
  await script(join(root, 'etc/cont-init.d/10-greet'), '#!/command/with-contenv sh\necho "greeting=$GREETING node_options=$NODE_OPTIONS" > /run/greeting\n');
  await script(join(root, 'etc/services.d/alpha/run'), '#!/bin/sh\nexec sleep 100000\n');
  return { box, root };
}

/**
 * Boots the root's /init as the real PID 1 of a new PID namespace, chrooted there, with a
 * NODE_OPTIONS in its environment that no Node could start with, and checks from inside:
 * `warden status` answers, alpha and beta are up, cont-init.d ran with the container
 * env (that NODE_OPTIONS included), beta's orphan (its pid in /run/orphan.pid) is reaped, a SIGKILLed alpha comes back,
 * `/command/s6-rc` takes alpha down and up, `warden --version` answers, SIGTERM ends it with 0,
 * and no signal of warden's table went unhandled (the real-time ones need Node's internal signal
 * handle). `waitMs` bounds each wait (an emulated arch runs slower).
 */
export async function bootAndCheck(box: Sandbox, root: string, kind: RootKind = NATIVE, waitMs = 60_000): Promise<void> {
  assert.deepEqual(await foreignRuntimes(root), [], 'no glibc and no Node in the root (but in /opt/warden)');
  const init = box.boot({
    // chroot and /init, with an environment as a container runtime gives it. NODE_OPTIONS is the
    // app's (an image's ENV): its scripts get it, PID 1 must not read it (this one would stop a
    // Node that did from starting).
    command: ['/usr/bin/env', '-i', `PATH=${PATH}`, 'GREETING=hello', `NODE_OPTIONS=${APP_NODE_OPTIONS}`, 'WARDEN_LOG_LEVEL=debug', '/usr/sbin/chroot', root, '/init'],
    initArgv0: kind.initArgv0,
    prelude: `mount -t proc proc ${root}/proc\nmount --rbind /dev ${root}/dev`,
  });
  const pid = await init.hostPid(waitMs);
  const inside = (...argv: string[]) => run('nsenter', ['-t', String(pid), '-m', '-p', '-r', '-w', ...argv], { env: { PATH } });
  const status = async (): Promise<ServiceStatus[]> => JSON.parse((await inside('/usr/bin/warden', 'status', '--json')).stdout) as ServiceStatus[];
  const upPids = async (): Promise<Record<string, number> | null> => {
    if (init.exited) throw new Error(`warden exited; ${init.tail()}`);
    const all = await status().catch(() => []);
    const up = all.filter((s) => s.state === 'up' && s.pid !== null);
    return up.length === 2 ? Object.fromEntries(up.map((s) => [s.name, s.pid!])) : null;
  };

  const first = await eventually('alpha and beta up, seen by `warden status` inside the root', upPids, waitMs, 200);
  assert.deepEqual(Object.keys(first).sort(), ['alpha', 'beta']);
  assert.equal(
    await readFile(join(root, 'run/greeting'), 'utf8'),
    `greeting=hello node_options=${APP_NODE_OPTIONS}\n`,
    'cont-init.d ran under with-contenv with the container env, NODE_OPTIONS included',
  );

  const orphan = Number((await eventually('the orphan pid', () => readFile(join(root, 'run/orphan.pid'), 'utf8').catch(() => null), waitMs / 2)).trim());
  await init.waitForEvent((e) => e.event === 'reaped' && e.pid === orphan, waitMs, `the orphan ${orphan} reaped`);
  await assert.rejects(inside('/bin/test', '-e', `/proc/${orphan}`), 'no zombie of the orphan is left');

  await inside('/bin/kill', '-KILL', String(first.alpha));
  const again = await eventually('alpha up again with a new pid', async () => {
    const pids = await upPids();
    return pids !== null && pids.alpha !== first.alpha ? pids : null;
  }, waitMs, 200);
  assert.equal(again.beta, first.beta, 'beta was left alone');

  // s6-rc: a Node script that the executable runs, in a root without Node.
  const s6rc = async (...argv: string[]): Promise<string[]> => (await inside('/command/s6-rc', ...argv)).stdout.split('\n').filter(Boolean);
  assert.ok((await s6rc('-a', 'list')).includes('alpha'), 's6-rc -a list: alpha is up');
  await s6rc('-d', 'change', 'alpha');
  assert.equal((await status()).find((s) => s.name === 'alpha')?.state, 'down', 's6-rc -d change alpha took it down');
  assert.ok(!(await s6rc('-a', 'list')).includes('alpha'), 's6-rc -a list: alpha is no longer up');
  await s6rc('-u', 'change', 'alpha');
  assert.equal((await status()).find((s) => s.name === 'alpha')?.state, 'up', 's6-rc -u change alpha brought it up again');

  const version = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal((await inside('/usr/bin/warden', '--version')).stdout.trim(), version.version, 'warden --version: the package version');

  await init.signal('SIGTERM');
  assert.deepEqual(await init.waitForExit(waitMs), { code: 0, signal: null }, init.tail());
  // A real-time signal warden cannot listen to would end a sub-init by its default action.
  assert.deepEqual(init.find((e) => e.event === 'signal-unhandled').map((e) => e.signal), [], 'every signal of the table is handled');
}

/** Writes an executable script. */
export async function script(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  await chmod(path, 0o755);
}
