/**
 * The arm64 release (`node scripts/dist.mjs --arch arm64`) boots in a root of Debian's arm64
 * busybox-static on this x64 machine, every arm64 program run by qemu-user through the kernel's
 * binfmt_misc (`scripts/install-dist-deps.sh --arch arm64` sets that up): the same checks as the
 * busybox root's (roots.test.ts), with waits for an emulated CPU. Skipped, saying what is
 * missing, when the arm64 release, the emulator's registration or the arm64 busybox is not here:
 * `npm run dist` and the test suite build only this machine's arch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../integration/harness.js';
import { bootAndCheck, makeRoot, releaseOf, script, type RootKind } from './release.js';

const BINFMT = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
const BUSYBOX = join(REPO_ROOT, 'node_modules/.cache/warden-dist/busybox-static-arm64/bin/busybox');
const SETUP = 'scripts/install-dist-deps.sh --arch arm64, then node scripts/dist.mjs --arch arm64';

/** The emulator binfmt_misc runs arm64 programs with, when it is registered so that it works in a chroot (flag F). */
function emulator(): string | null {
  if (!existsSync(BINFMT)) return null;
  const entry = readFileSync(BINFMT, 'utf8');
  const interpreter = /^interpreter (\S+)$/m.exec(entry)?.[1];
  const flags = /^flags: (\S*)$/m.exec(entry)?.[1] ?? '';
  return /^enabled$/m.test(entry) && flags.includes('F') && interpreter !== undefined ? interpreter : null;
}

function skipReason(): string | false {
  if (process.arch === 'arm64') return 'this machine is arm64: roots.test.ts boots its release natively';
  if (!existsSync(releaseOf('arm64'))) return `${relative(REPO_ROOT, releaseOf('arm64'))} is not built (${SETUP})`;
  if (emulator() === null) return `no qemu-aarch64 in binfmt_misc with flag F (${SETUP})`;
  if (!existsSync(BUSYBOX)) return `no arm64 busybox-static in ${relative(REPO_ROOT, BUSYBOX)} (${SETUP})`;
  return false;
}

const skip = skipReason();
if (skip !== false) console.log(`arm64 root test skipped: ${skip}`);

test('arm64 busybox-static root under qemu-user: /init from the arm64 release boots, supervises, reaps and stops with 0', { skip, timeout: 900_000 }, async (t) => {
  // With binfmt_misc's P flag the host sees the emulator as argv[0] of the booted /init.
  const kind: RootKind = { release: releaseOf('arm64'), busybox: BUSYBOX, initArgv0: emulator()! };
  const { box, root } = await makeRoot(t, kind);
  await script(join(root, 'etc/services.d/beta/run'), '#!/bin/sh\n(sleep 1 & echo $! > /run/orphan.pid)\nexec sleep 100000\n');
  await bootAndCheck(box, root, kind, 300_000);
});
