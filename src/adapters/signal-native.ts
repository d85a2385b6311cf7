/**
 * The signal calls Node does not offer, through koffi: blocking signals in the main thread,
 * putting a signal back to its default action, and ignoring the one signal glibc refuses.
 * Linux only (glibc or musl, x86-64 or arm64).
 */
import { koffi, libcCalls } from './koffi-lazy.js';

/** Larger than struct sigaction and sigset_t on every C library warden runs on. */
const SIGACTION_BYTES = 256;
const SIGSET_BYTES = 128;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** rt_sigaction's number, by architecture: glibc's sigaction() refuses its own signals. */
const SYS_RT_SIGACTION: Readonly<Record<string, number>> = { x64: 13, arm64: 134 };

type Calls = {
  sigaction: (sig: number, act: Buffer | null, old: Buffer | null) => number;
  pthread_sigmask: (how: number, set: Buffer | null, old: Buffer | null) => number;
  sigemptyset: (set: Buffer) => number;
  sigaddset: (set: Buffer, sig: number) => number;
  // syscall() is variadic; its fixed-argument form is call-compatible on x86-64 and arm64.
  syscall: (nr: number, sig: number, act: Buffer, old: null, size: number) => number;
};

const load = libcCalls(
  (lib): Calls => ({
    sigaction: lib.func('int sigaction(int sig, const void *act, void *old)') as Calls['sigaction'],
    pthread_sigmask: lib.func('int pthread_sigmask(int how, const void *set, void *old)') as Calls['pthread_sigmask'],
    sigemptyset: lib.func('int sigemptyset(void *set)') as Calls['sigemptyset'],
    sigaddset: lib.func('int sigaddset(void *set, int sig)') as Calls['sigaddset'],
    syscall: lib.func('long syscall(long nr, long sig, const void *act, void *old, long size)') as Calls['syscall'],
  }),
);

function fail(what: string): never {
  throw new Error(`${what} failed: errno ${koffi().errno()}`);
}

/**
 * Puts `signal` back to its default action, whatever handler Node installed: a zeroed struct
 * sigaction is SIG_DFL with no flags and an empty mask.
 */
export function restoreDefault(signal: number): void {
  if (load().sigaction(signal, Buffer.alloc(SIGACTION_BYTES), null) !== 0) fail(`sigaction(${signal})`);
}

function sigset(signals: readonly number[]): Buffer {
  const c = load();
  const set = Buffer.alloc(SIGSET_BYTES);
  c.sigemptyset(set);
  for (const s of signals) c.sigaddset(set, s);
  return set;
}

/**
 * Blocks `signals` in the calling (main) thread only; one sent with `kill` still reaches Node's
 * handler through a thread that does not block it. A blocked SIGTTOU/SIGTTIN counts as ignored
 * for the terminal: warden's own writes and tcsetpgrp from the background go through instead of
 * stopping it. A fault signal the kernel raises in a thread that blocks it is put back to its
 * default action and kills the process (Linux's force_sig_fault), handler or not.
 */
export function blockInThisThread(signals: readonly number[]): void {
  if (load().pthread_sigmask(SIG_BLOCK, sigset(signals), null) !== 0) fail('pthread_sigmask');
}

/** Runs `fn` with `signals` blocked in this thread, then restores the mask. */
export function withBlocked<T>(signals: readonly number[], fn: () => T): T {
  const c = load();
  const old = Buffer.alloc(SIGSET_BYTES);
  if (c.pthread_sigmask(SIG_BLOCK, sigset(signals), old) !== 0) fail('pthread_sigmask');
  try {
    return fn();
  } finally {
    c.pthread_sigmask(SIG_SETMASK, old, null);
  }
}

/**
 * Ignores a signal the C library keeps for itself (glibc's 32, thread cancellation), with the
 * raw system call since sigaction() refuses it: its default would kill warden as a sub-init.
 * Returns false where that cannot be done (another architecture, a refusing kernel).
 */
export function ignoreLibcSignal(signal: number): boolean {
  const nr = SYS_RT_SIGACTION[process.arch];
  if (nr === undefined) return false;
  // The kernel's struct sigaction starts with the handler; SIG_IGN is 1, flags and mask 0.
  const action = Buffer.alloc(SIGACTION_BYTES);
  action.writeBigUInt64LE(1n, 0);
  return load().syscall(nr, signal, action, null, 8) === 0;
}
