/**
 * Who are a process's children and descendants, read from /proc (Linux only).
 *
 * Everything here tolerates processes and threads vanishing between listing and reading: that is
 * the normal case in a supervisor, not an error.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** True for errors that only mean "that process or thread is gone". */
function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** A /proc file's text, or null when its process is gone. */
export function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isGone(error)) return null;
    throw error;
  }
}

/**
 * The direct children of `pid` (running or zombie), from `/proc/PID/task/*\/children`.
 *
 * The kernel files a child under the thread that forked it, and an adopted orphan under any live
 * thread, so every thread's file is read, not only the main thread's.
 */
export function directChildren(pid: number = process.pid): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    if (isGone(error)) return [];
    throw error;
  }
  const children = new Set<number>();
  for (const tid of tasks) {
    const text = readOrNull(`/proc/${pid}/task/${tid}/children`);
    if (text === null) continue;
    for (const field of text.split(' ')) {
      const child = Number.parseInt(field, 10);
      if (child > 0) children.add(child);
    }
  }
  return [...children];
}

/** The parsed fields of /proc/PID/stat that we use. */
export type ProcStat = { pid: number; state: string; ppid: number };

/**
 * Reads /proc/PID/stat, or null if the process is gone. The comm field is in parentheses and may
 * itself contain spaces and ')', so fields are taken after the LAST ')'.
 */
export function readStat(pid: number): ProcStat | null {
  const text = readOrNull(`/proc/${pid}/stat`);
  if (text === null) return null;
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const [state, ppid] = text.slice(close + 2).split(' ');
  if (state === undefined || ppid === undefined) return null;
  return { pid, state, ppid: Number.parseInt(ppid, 10) };
}

/** The real uid `pid` runs as (/proc/PID/status), or null when it is gone. */
export function uidOf(pid: number): number | null {
  const text = readOrNull(`/proc/${pid}/status`);
  const match = text === null ? null : /^Uid:\s+(\d+)/m.exec(text);
  return match === null ? null : Number.parseInt(match[1]!, 10);
}

/** Every pid currently listed in /proc. */
function allPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57) pids.push(Number.parseInt(name, 10));
  }
  return pids;
}

/**
 * All descendants of `pid` (children, grandchildren, …; not `pid` itself), by the ppid field of
 * every /proc/PID/stat. Used at shutdown when warden is not PID 1, to signal only its own tree.
 * A snapshot: processes forked after the walk are not in it.
 */
export function descendants(pid: number): number[] {
  const childrenOf = new Map<number, number[]>();
  for (const candidate of allPids()) {
    const stat = readStat(candidate);
    if (stat === null) continue;
    const siblings = childrenOf.get(stat.ppid);
    if (siblings === undefined) childrenOf.set(stat.ppid, [candidate]);
    else siblings.push(candidate);
  }
  // Breadth-first; `seen` guards against a cycle made of pids reused while we were reading.
  const seen = new Set<number>([pid]);
  const found: number[] = [];
  for (let i = -1; i < found.length; i++) {
    const parent = i < 0 ? pid : found[i]!;
    for (const child of childrenOf.get(parent) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      found.push(child);
    }
  }
  return found;
}

/** The zombies (state Z) among `pids`. */
export function zombies(pids: readonly number[]): number[] {
  return pids.filter((p) => readStat(p)?.state === 'Z');
}
