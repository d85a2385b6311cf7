/**
 * koffi, loaded on first use rather than at import: most of warden's life never needs it before
 * the first orphan or control connection, and boot is faster without it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSea } from 'node:sea';
import type * as Koffi from 'koffi';

let module: typeof Koffi | undefined;
let libcHandle: Koffi.LibraryHandle | undefined;

export function koffi(): typeof Koffi {
  module ??= loadKoffi();
  return module;
}

/**
 * koffi's prebuilt binary, required straight from the per-platform package that koffi's own
 * loader takes it from (`@koromix/koffi-linux-x64` holds a glibc and a musl build). That loader
 * (its platform detection and the deprecation wrappers warden does not use) costs ~4 ms more,
 * which a sub-init's boot pays before its first service starts. Anything else (another platform,
 * another package layout, a koffi that moved its files) gets koffi's own loader.
 */
function loadKoffi(): typeof Koffi {
  if (isSea()) return loadKoffiBesideExecutable();
  // node:module only here: the single executable, which never needs it, does not load it at boot.
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  const { platform, arch } = process;
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64')) {
    try {
      return require(`@koromix/koffi-linux-${arch}/${cLibrary()}_${arch}/koffi.node`) as typeof Koffi;
    } catch {
      // Not there: koffi's loader finds it.
    }
  }
  return require('koffi') as typeof Koffi;
}

/**
 * The release's single executable (scripts/dist.mjs) has koffi's binary in its own lib dir
 * (`/opt/warden/lib/koffi.node`), beside the C libraries it was linked for: the glibc build,
 * whatever C library the image has, since the executable brings its own.
 */
function loadKoffiBesideExecutable(): typeof Koffi {
  const module = { exports: {} };
  process.dlopen(module, join(dirname(process.execPath), '..', 'lib', 'koffi.node'));
  return module.exports as typeof Koffi;
}

/**
 * The C library this process runs on, by the dynamic loader mapped into it: the build for the
 * other one might even load (musl answers glibc's sonames) and then fail in odd ways.
 */
function cLibrary(): 'musl' | 'linux' {
  return readFileSync('/proc/self/maps', 'utf8').includes('/ld-musl-') ? 'musl' : 'linux';
}

/**
 * The C library, opened once. glibc's soname; on musl (Alpine) too, whose loader answers any
 * `libc.*` name with itself (ldso/dynlink.c), and koffi ships a musl build. The single
 * executable has its glibc loaded already (its own, from /opt/warden/lib): that one answers.
 */
export function libc(): Koffi.LibraryHandle {
  libcHandle ??= koffi().load('libc.so.6');
  return libcHandle;
}

/**
 * Declares a set of libc functions once, on first use: `const calls = libcCalls((lib) => ({ … }))`,
 * then `calls().name(…)`.
 */
export function libcCalls<T>(declare: (lib: Koffi.LibraryHandle) => T): () => T {
  let calls: T | undefined;
  return () => (calls ??= declare(libc()));
}
