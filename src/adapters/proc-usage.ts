/**
 * What a service's processes use, read from /proc (Linux only): resident memory and CPU time of
 * its process and every descendant (a server's workers, a shell's children), as pm2 and
 * `ps` show them. Cheap: a process's stat, status and children files, no scan of /proc.
 */
import { readFileSync } from 'node:fs';
import { directChildren, readOrNull } from './process-tree.js';

export interface TreeUsage {
  /** Resident memory of every process of the tree, bytes. */
  readonly rssBytes: number;
  /** CPU time (user + system) of every process of the tree, and of the children they reaped, ms. */
  readonly cpuMs: number;
  /** Processes in the tree. */
  readonly processes: number;
}

let ticksPerSecondOnce: number | null = null;

/** The kernel's clock tick rate, AT_CLKTCK of the aux vector it gave this process: sysconf(3)'s answer without a native call. */
function ticksPerSecond(): number {
  if (ticksPerSecondOnce !== null) return ticksPerSecondOnce;
  let ticks = 100;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    // Pairs of native words (type, value); 8 bytes each on the 64-bit machines Node runs on.
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      const type = auxv.readBigUInt64LE(at);
      const value = Number(auxv.readBigUInt64LE(at + 8));
      if (type === 17n && value > 0) ticks = value;
      if (type === 0n) break;
    }
  } catch {
    // No /proc/self/auxv: Linux's usual rate.
  }
  ticksPerSecondOnce = ticks;
  return ticks;
}

/**
 * utime + stime + cutime + cstime (ticks) of one process, and its VmRSS (bytes), or null when it
 * is gone. RSS from status, not stat: stat's page count is the kernel's per-CPU estimate, off by
 * hundreds of KB on a small process.
 */
function statOf(pid: number): { ticks: number; rssBytes: number } | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  const status = readOrNull(`/proc/${pid}/status`);
  if (stat === null || status === null) return null;
  // Fields after the command, which is in parentheses and may hold spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // proc(5) numbers fields from 1 and this list starts at field 3 (state).
  const field = (n: number): number => Number(fields[n - 3]);
  const ticks = field(14) + field(15) + field(16) + field(17);
  // A zombie has no VmRSS line: no memory.
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  return Number.isFinite(ticks) ? { ticks, rssBytes: rssKb * 1024 } : null;
}

/** Processes followed below one service: a fork bomb must not make `status` walk forever. */
const MAX_PROCESSES = 4096;

/** The usage of `pid` and its descendants, or null when `pid` is gone. */
export function treeUsage(pid: number): TreeUsage | null {
  let ticks = 0;
  let rssBytes = 0;
  let processes = 0;
  const seen = new Set<number>();
  const queue = [pid];
  while (queue.length > 0 && processes < MAX_PROCESSES) {
    const next = queue.shift()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const stat = statOf(next);
    if (stat === null) {
      if (next === pid) return null;
      continue;
    }
    ticks += stat.ticks;
    rssBytes += stat.rssBytes;
    processes++;
    try {
      queue.push(...directChildren(next));
    } catch {
      // Its children cannot be listed (another user's hidepid /proc): its own usage still counts.
    }
  }
  return { rssBytes, cpuMs: Math.round((ticks * 1000) / ticksPerSecond()), processes };
}
