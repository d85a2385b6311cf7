/** treeUsage against real processes: the memory and CPU time of a process and its descendants. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { treeUsage } from '../../../src/adapters/proc-usage.js';

/** VmRSS from /proc/PID/status, bytes: the kernel's own sum, read another way. */
function vmRss(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
}

async function until<T>(probe: () => T | null): Promise<T> {
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    await sleep(10);
  }
}

function kill(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}

test('treeUsage: a shell and its two children are three processes, their RSS summed', async (t) => {
  const sh = spawn('sh', ['-c', 'sleep 1000 & sleep 1000 & wait'], { detached: true, stdio: 'ignore' });
  t.after(() => kill(sh));
  const kids = await until(() => {
    const found = childrenOf(sh.pid!);
    return found.length === 2 ? found : null;
  });
  // Both read VmRSS, once the children have exec'd sleep and sleep: until then
  // they change between the reads.
  const sum = (): number => [sh.pid!, ...kids].reduce((total, pid) => total + vmRss(pid), 0);
  let tries = 0;
  const [usage, expected] = await until(() => {
    const before = sum();
    const read = treeUsage(sh.pid!);
    return (read?.rssBytes === before && sum() === before) || ++tries > 200 ? ([read, before] as const) : null;
  });
  assert.ok(usage !== null);
  assert.equal(usage.processes, 3);
  assert.equal(usage.rssBytes, expected);
  const alone = treeUsage(kids[0]!);
  assert.deepEqual([alone?.processes, alone?.rssBytes], [1, vmRss(kids[0]!)]);
});

test("treeUsage: a child's CPU time counts, as much as the child itself measured", async (t) => {
  // The child burns 300 ms of its own CPU time (its clock, not the wall's), says so, then idles.
  const burn = 'const s=process.cpuUsage();while((process.cpuUsage(s).user+process.cpuUsage(s).system)<300000);const u=process.cpuUsage();console.log(Math.round((u.user+u.system)/1000));setInterval(()=>{},1e6)';
  const sh = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e '${burn}'; sleep 1000`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => kill(sh));
  const [chunk] = (await once(sh.stdout!, 'data')) as [Buffer];
  const ownMs = Number(chunk.toString().trim());
  const usage = treeUsage(sh.pid!);
  assert.ok(usage !== null);
  assert.equal(usage.processes, 2);
  // The kernel counts in clock ticks (10 ms at 100 Hz): at most one tick short per counter.
  assert.ok(usage.cpuMs >= ownMs - 20, `tree ${usage.cpuMs} ms, the child itself ${ownMs} ms`);
});

test('treeUsage: a process that is gone has none', async () => {
  const child = spawn('true');
  await once(child, 'close');
  assert.equal(treeUsage(child.pid!), null);
});
