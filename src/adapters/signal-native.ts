/**
 * The signal calls Node does not offer, through koffi: one-shot handlers for fault signals,
 * blocking job-control signals in the main thread, and ignoring the one signal glibc refuses.
 * Linux only (glibc or musl, x86-64 or arm64).
 */
import { koffi, libcCalls } from './koffi-lazy.js';

/** sigaction's flag that resets the handler to the default once it has run. */
const SA_RESETHAND = 0x80000000 | 0;
/** Offset of sa_flags in the C library's struct sigaction: the handler (8), then sigset_t (128). */
const SA_FLAGS_OFFSET = 8 + 128;
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

/** The handlers Node installed, saved to be put back after each delivery. */
const armed = new Map<number, Buffer>();

/**
 * Makes the handler Node (libuv) installed for `signal` one-shot: the kernel resets it to the
 * default as it delivers. Call after `process.on(signal)` and again from the listener: a `kill`
 * is then caught every time, while a real fault (the handler returns to the faulting
 * instruction, which faults again) finds the default action and ends warden with a core dump.
 */
export function armOneShot(signal: number): void {
  const c = load();
  let action = armed.get(signal);
  if (action === undefined) {
    action = Buffer.alloc(SIGACTION_BYTES);
    if (c.sigaction(signal, null, action) !== 0) fail(`sigaction(${signal})`);
    action.writeInt32LE(action.readInt32LE(SA_FLAGS_OFFSET) | SA_RESETHAND, SA_FLAGS_OFFSET);
    armed.set(signal, action);
  }
  if (c.sigaction(signal, action, null) !== 0) fail(`sigaction(${signal})`);
}

function sigset(signals: readonly number[]): Buffer {
  const c = load();
  const set = Buffer.alloc(SIGSET_BYTES);
  c.sigemptyset(set);
  for (const s of signals) c.sigaddset(set, s);
  return set;
}

/**
 * Blocks `signals` in the calling (main) thread only. A blocked SIGTTOU/SIGTTIN counts as
 * ignored for the terminal: warden's own writes and tcsetpgrp from the background go through
 * instead of stopping it, while one sent with `kill` still reaches Node's handler through a
 * thread that does not block it.
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
