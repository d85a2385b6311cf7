/** What the bench reads from /proc: the process tree, RSS, and who lives under our temp dir. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parens: the fields after it start at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    return { pid, ppid: Number(fields[1]), comm };
  } catch {
    return null;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Is `pid` alive and not a zombie? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** `root` and all its descendants, minus the subtrees rooted at `exclude`. */
export function tree(root: number, exclude: ReadonlySet<number>): ProcInfo[] {
  const infos = allPids()
    .map(readProc)
    .filter((p): p is ProcInfo => p !== null);
  const children = new Map<number, ProcInfo[]>();
  for (const p of infos) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const self = infos.find((p) => p.pid === root);
  if (!self) return [];
  const out: ProcInfo[] = [];
  const queue = [self];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const p = queue[i]!;
    if (exclude.has(p.pid)) continue;
    out.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** A `/proc/PID/status` field in kB (0 when gone): VmRSS now, VmHWM the peak so far. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Pids whose working directory is under `dir`: every service the bench started lives there. */
export function pidsWithCwdUnder(dir: string): number[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return allPids().filter((pid) => {
    if (pid === process.pid) return false;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      return cwd === dir || cwd.startsWith(prefix);
    } catch {
      return false;
    }
  });
}

/**
 * CPU time `pid` has run so far, ms: the sum over its threads of the scheduler's own count
 * (`/proc/PID/task/TID/schedstat`, ns; /proc/PID/stat counts in 10 ms ticks). 0 when gone.
 */
export function cpuMs(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e6;
  } catch {
    return 0;
  }
}
