/**
 * What the overlay tests share: a corpus tree (test/fixtures/overlay/TREE/etc) put where an
 * image has it. Inside the booted init's private mount namespace the tree is overlaid on /etc
 * (over test/fixtures/overlay/common, the helper scripts every tree uses), a bin dir on
 * /usr/bin (as an image installs the shims) and /run is a fresh tmpfs, as in a container.
 * Scripts leave "NANOSECONDS WHAT" lines in $MARK_DIR/events (the `record` helper).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO_ROOT, Sandbox, sq, WARDEN_MAIN, type BootOptions, type Warden } from './harness.js';

export const CORPUS = join(REPO_ROOT, 'test/fixtures/overlay');
const COMMON = join(CORPUS, 'common');
const SHIMS = join(REPO_ROOT, 'shims');

/** The corpus trees: every dir of test/fixtures/overlay with an etc/ in it. */
export async function corpusTrees(): Promise<string[]> {
  const names = await readdir(CORPUS, { withFileTypes: true });
  const trees: string[] = [];
  for (const entry of names) {
    if (!entry.isDirectory()) continue;
    const inner = await readdir(join(CORPUS, entry.name));
    if (inner.includes('etc')) trees.push(entry.name);
  }
  return trees.sort();
}

/** The etc dir of corpus tree `tree`. */
export function treeEtc(tree: string): string {
  return join(CORPUS, tree, 'etc');
}

/**
 * Fills `bin` with the named shims (all of them when `shims` is absent) and a `warden` command,
 * and returns the shell lines that mount the image's paths: `etc` on /etc, `bin` on /usr/bin,
 * a tmpfs on /run. With `etcUpper`, /etc is writable, its changes kept in `etcUpper`.
 */
export async function imagePrelude(bin: string, etc: string, shims?: readonly string[], etcUpper?: string): Promise<string> {
  await mkdir(bin, { recursive: true });
  const wanted = shims ?? (await readdir(SHIMS)).filter((name) => name !== 'package.json' && name !== 'lib');
  // Links, as npm installs bin entries: the shims find their lib/ (and warden's code) from their real path.
  for (const name of wanted) await symlink(join(SHIMS, name), join(bin, name));
  await writeFile(join(bin, 'warden'), `#!/bin/sh\nexec ${sq(process.execPath)} ${sq(WARDEN_MAIN)} "$@"\n`);
  for (const name of await readdir(bin)) await chmod(join(bin, name), 0o755);
  return [
    `mount -t overlay overlay -o lowerdir=${bin}:/usr/bin /usr/bin`,
    // With `etcUpper` (a dir of the sandbox) /etc is writable, as a container's is.
    `mount -t overlay overlay -o lowerdir=${etc}:${COMMON}:/etc${etcUpper === undefined ? '' : `,upperdir=${etcUpper}/upper,workdir=${etcUpper}/work`} /etc`,
    'mount -t tmpfs tmpfs /run',
  ].join('\n');
}

/**
 * The shell lines that give the namespace the image's own top-level dirs without making them on
 * the host: `/command` (s6-overlay's dir of programs, here the shims of `bin`, which
 * `#!/command/with-contenv` scripts name) and, when a layer ships part of s6-overlay's tree,
 * `/package` made of `packages` (the first on top). A new root on a tmpfs at `newRoot` gets every
 * entry of / bound into it (what the prelude mounted so far comes along) and these dirs, and the
 * prelude's shell chroots into it before warden starts, still as PID 1. Goes last in a prelude.
 */
export function imageRootPrelude(newRoot: string, bin: string, packages: readonly string[]): string {
  const root = sq(newRoot);
  const lines = [
    `mount -t tmpfs -o mode=755 tmpfs ${root}`,
    // /tmp holds the new root itself: bound alone, not with what is mounted under it.
    `for e in /* ; do n="\${e#/}"; if [ -L "$e" ]; then cp -P "$e" ${root}/"$n"; elif [ -d "$e" ]; then mkdir ${root}/"$n"; if [ "$e" = /tmp ]; then mount --bind "$e" ${root}/"$n"; else mount --rbind "$e" ${root}/"$n"; fi; fi; done`,
    // As s6-overlay's /command: the shims (bin is on /usr/bin), execlineb and execline's programs.
    `if [ ! -e ${root}/command ]; then mkdir ${root}/command; for f in ${sq(bin)}/* /usr/bin/execlineb; do ln -s /usr/bin/"\${f##*/}" ${root}/command/; done; for f in /usr/lib/execline/bin/*; do [ -e "$f" ] && ln -sf "$f" ${root}/command/; done; fi`,
  ];
  if (packages.length > 0) {
    const layers = packages.map(sq).join(':');
    lines.push(
      // Over the host's /package when there is one (bound in above), as an image's layer over s6-overlay's.
      `if [ -d /package ]; then mount -t overlay overlay -o lowerdir=${layers}:/package ${root}/package; else mkdir ${root}/package;`,
      // overlayfs wants two layers at least: one is bound as it is, read-only as a layer is.
      packages.length === 1
        ? `mount --bind ${sq(packages[0]!)} ${root}/package && mount -o remount,bind,ro ${root}/package; fi`
        : `mount -t overlay overlay -o lowerdir=${layers} ${root}/package; fi`,
    );
  }
  lines.push(`exec chroot ${root} "$0" "$@"`);
  return lines.join('\n');
}

export interface OverlayBox {
  readonly box: Sandbox;
  /** Boots warden as PID 1 on the tree, with the default dirs (/etc/services.d …) as in an image. */
  readonly boot: (opts?: BootOptions) => Warden;
}

/** A sandbox for booting warden on corpus tree `tree` (or another etc dir), with the marks dir made. */
export async function overlayBox(t: TestContext, tree = 'app', etc = treeEtc(tree)): Promise<OverlayBox> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await mkdir(box.path('marks'));
  const prelude = await imagePrelude(box.path('bin'), etc);
  const boot = (opts: BootOptions = {}): Warden =>
    box.boot({
      ...opts,
      argv: ['boot', ...(opts.cmd ? ['--', ...opts.cmd] : [])],
      // The test's own prelude (fds for warden to inherit …) runs after the image's mounts.
      prelude: opts.prelude === undefined ? prelude : `${prelude}\n${opts.prelude}`,
      env: { WARDEN_S6_RUNTIME: '1', MARK_DIR: box.path('marks'), APP_NAME: 'demo', ...opts.env },
    });
  return { box, boot };
}

export interface Mark {
  readonly ns: bigint;
  readonly what: string;
}

/** The marks the scripts left, in order. */
export async function marks(box: Sandbox): Promise<Mark[]> {
  const text = (await box.read('marks/events')) ?? '';
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => ({ ns: BigInt(l.slice(0, l.indexOf(' '))), what: l.slice(l.indexOf(' ') + 1) }));
}

/** The first mark that is `what` or starts with `what `; fails the test if there is none. */
export function at(list: readonly Mark[], what: string): Mark {
  const found = list.find((m) => m.what === what || m.what.startsWith(`${what} `));
  assert.ok(found, `no "${what}" mark in:\n${list.map((m) => m.what).join('\n')}`);
  return found;
}

/** Fails unless mark `a` came no later than mark `b`. */
export function before(list: readonly Mark[], a: string, b: string): void {
  assert.ok(at(list, a).ns <= at(list, b).ns, `"${a}" should come before "${b}":\n${list.map((m) => m.what).join('\n')}`);
}
