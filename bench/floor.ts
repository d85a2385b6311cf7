/**
 * The floor: the least a Node supervisor can do. Spawns each `run` given on argv and spawns it
 * again on 'exit', with no backoff, no reaper, no state. Anything warden adds costs above this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';

const runs = process.argv.slice(2);
const children = new Set<ChildProcess>();
let stopping = false;

function start(run: string): void {
  const child = spawn(run, [], { cwd: dirname(run), stdio: 'ignore' });
  children.add(child);
  child.on('exit', () => {
    children.delete(child);
    if (!stopping) start(run);
    else if (children.size === 0) process.exit(0);
  });
}

process.on('SIGTERM', () => {
  stopping = true;
  if (children.size === 0) process.exit(0);
  for (const child of children) child.kill('SIGTERM');
});

for (const run of runs) start(run);
