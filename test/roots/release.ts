/**
 * The release tarball (`npm run dist`) in a root made of Debian packages that is not Debian:
 * busybox-static alone, or musl plus busybox-static's shell. What the roots tests share.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../integration/harness.js';

const run = promisify(execFile);

/** The release for this machine's architecture, as `npm run dist` writes it. */
export const RELEASE = join(REPO_ROOT, 'release', `warden-linux-${process.arch}.tar.xz`);
/** Debian's musl: its libc is also its dynamic loader. */
const MUSL_LIBC = `/usr/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-musl/libc.so`;
const MUSL_LOADER = `ld-musl-${process.arch === 'x64' ? 'x86_64' : 'aarch64'}.so.1`;

/** Throws, saying what to install or run, when the tools or the release are missing. */
export function needs(...what: ('release' | 'busybox' | 'musl')[]): void {
  if (what.includes('release') && !existsSync(RELEASE)) {
    throw new Error(`${relative(REPO_ROOT, RELEASE)} is missing: run \`npm run dist\` (scripts/test.sh does)`);
  }
  if (what.includes('busybox') && !existsSync('/bin/busybox')) throw new Error('/bin/busybox is missing: apt-get install busybox-static (scripts/install-dist-deps.sh)');
  if (what.includes('musl') && !existsSync(MUSL_LIBC)) throw new Error(`${MUSL_LIBC} is missing: apt-get install musl-tools (scripts/install-dist-deps.sh)`);
}

/**
 * Makes `root` a busybox root: /bin/busybox (Debian's busybox-static: no C library at all) and
 * its applets as links, the dirs a container runtime provides, and the release unpacked at /.
 */
export async function busyboxRoot(root: string): Promise<void> {
  for (const dir of ['bin', 'dev', 'proc', 'run', 'tmp', 'etc']) await mkdir(join(root, dir), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await run('tar', ['-C', root, '-xJf', RELEASE]);
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
