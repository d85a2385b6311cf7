/**
 * The few libc calls Node does not offer: becoming a child subreaper and reaping one pid.
 *
 * koffi is loaded lazily, once, on first use, so importing this module costs nothing on hosts
 * (or tests) that never reap. Linux only.
 */
import { koffi, libc as openLibc } from './koffi-lazy.js';

/** How a reaped process ended. */
export type WaitStatus = { kind: 'exited'; code: number } | { kind: 'killed'; signal: number };

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

type Libc = {
  // prctl is variadic in C; declaring the five unsigned-long arguments that the kernel reads is
  // call-compatible on the Linux ABIs we run on (x86-64, aarch64) and avoids koffi's variadic form.
  prctl: (option: number, a2: number, a3: number, a4: number, a5: number) => number;
  // _Out_ makes koffi write *status back into element 0 of the array we pass.
  waitpid: (pid: number, status: [number], options: number) => number;
};

let libc: Libc | undefined;

function load(): Libc {
  if (libc === undefined) {
    const lib = openLibc();
    libc = {
      prctl: lib.func(
        'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
      ) as Libc['prctl'],
      waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)') as Libc['waitpid'],
    };
  }
  return libc;
}

/** The name of an errno value, e.g. `ECHILD`, or its number when unknown. */
function errnoName(errno: number): string {
  const entry = Object.entries(koffi().os.errno).find(([, value]) => value === errno);
  return entry === undefined ? `errno ${errno}` : `${entry[0]} (${errno})`;
}

/** Makes orphans of our descendants re-parent to us instead of to PID 1 (like `tini -s`). */
export function setChildSubreaper(): void {
  if (load().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) {
    // koffi's errno() is read right after the call, before any other native code can run on this
    // thread, so it is the errno prctl set (checked: survives JS allocation in between).
    const errno = koffi().errno();
    throw new Error(
      `prctl(PR_SET_CHILD_SUBREAPER) failed: ${errnoName(errno)}; orphans cannot be reaped by warden (Linux ≥ 3.4 needed)`,
    );
  }
}

/**
 * Reaps `pid` if it has ended: its status, or null if it still runs or is not our child (ECHILD,
 * e.g. already reaped by someone else). Never blocks.
 */
export function waitpidNoHang(pid: number): { pid: number; status: WaitStatus } | null {
  if (!Number.isInteger(pid) || pid <= 0) {
    // waitpid(0) and waitpid(-N) wait for any child of a group: exactly what must never happen
    // here, since it would steal exit statuses that libuv is waiting for.
    throw new Error(`waitpidNoHang: pid must be a positive integer, got ${pid}`);
  }
  const raw: [number] = [0];
  const result = load().waitpid(pid, raw, WNOHANG);
  if (result === 0) return null;
  if (result < 0) {
    const errno = koffi().errno();
    if (errno === koffi().os.errno.ECHILD) return null;
    throw new Error(`waitpid(${pid}) failed: ${errnoName(errno)}`);
  }
  return { pid: result, status: decodeWaitStatus(raw[0]) };
}

/**
 * Decodes a raw wait status the way glibc's macros do: the low 7 bits are the terminating
 * signal (0 = exited normally, then the code is in bits 8..15; 0x7f = stopped).
 */
export function decodeWaitStatus(raw: number): WaitStatus {
  const low = raw & 0x7f;
  if (low === 0) return { kind: 'exited', code: (raw >> 8) & 0xff }; // WIFEXITED, WEXITSTATUS
  if (low !== 0x7f && raw !== 0xffff) return { kind: 'killed', signal: low }; // WIFSIGNALED, WTERMSIG
  // Stopped / continued statuses are only reported with WUNTRACED / WCONTINUED, which we never pass.
  throw new Error(`unexpected wait status 0x${raw.toString(16)} (stopped or continued)`);
}
