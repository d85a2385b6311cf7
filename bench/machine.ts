/** The machine a run was measured on, for docs/benchmarks.md. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';

export interface Machine {
  readonly date: string;
  readonly cpus: number;
  readonly model: string;
  readonly memory: string;
  readonly kernel: string;
  readonly node: string;
  readonly peers: string;
}

function run(file: string, args: readonly string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    date: run('date', ['-u']),
    cpus: availableParallelism(),
    model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    kernel: release(),
    node: process.version,
    peers: run('dpkg-query', ['-W', '-f', '${Package} ${Version}, ', 's6', 'runit', 'supervisor', 'tini']).replace(/,\s*$/, ''),
  };
}
