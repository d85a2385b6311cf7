/**
 * koffi, loaded on first use rather than at import: most of warden's life never needs it before
 * the first orphan or control connection, and boot is faster without it (~12 ms).
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

let module: typeof Koffi | undefined;
let libcHandle: Koffi.LibraryHandle | undefined;

export function koffi(): typeof Koffi {
  module ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  return module;
}

/**
 * The C library, opened once. glibc's soname; on musl (Alpine) too, whose loader answers any
 * `libc.*` name with itself (ldso/dynlink.c), and koffi ships a musl build.
 */
export function libc(): Koffi.LibraryHandle {
  libcHandle ??= koffi().load('libc.so.6');
  return libcHandle;
}
