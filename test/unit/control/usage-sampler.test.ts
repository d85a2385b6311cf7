/** The CPU share warden status shows: over the window since the last status, or over the process's life at first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TreeUsage } from '../../../src/adapters/proc-usage.js';
import { UsageSampler } from '../../../src/daemon/usage-sampler.js';

function sampler(): { s: UsageSampler; set: (pid: number, u: TreeUsage | null) => void } {
  const table = new Map<number, TreeUsage | null>();
  return { s: new UsageSampler((pid) => table.get(pid) ?? null), set: (pid, u) => table.set(pid, u) };
}

const usage = (cpuMs: number): TreeUsage => ({ rssBytes: 4096, cpuMs, processes: 1 });

test('first sample: CPU time over uptime; later: over the time since the previous sample', () => {
  const { s, set } = sampler();
  set(10, usage(500));
  assert.deepEqual(s.sample('web', 10, 1000, 2000), { rssBytes: 4096, cpuMs: 500, processes: 1, cpuPercent: 25 });
  set(10, usage(1500));
  assert.equal(s.sample('web', 10, 3000, 4000)?.cpuPercent, 50, '1000 ms of CPU in 2000 ms');
  set(10, usage(1500));
  assert.equal(s.sample('web', 10, 4000, 5000)?.cpuPercent, 0, 'idle since');
});

test('a new process of the service starts a new window; a gone one has no usage; time never goes negative', () => {
  const { s, set } = sampler();
  set(10, usage(900));
  s.sample('web', 10, 1000, 1000);
  set(11, usage(100));
  assert.equal(s.sample('web', 11, 2000, 400)?.cpuPercent, 25, 'over the new process life, not against the old one');
  set(11, usage(50));
  assert.equal(s.sample('web', 11, 3000, 1400)?.cpuPercent, 0, 'a descendant gone with its time');
  set(11, null);
  assert.equal(s.sample('web', 11, 4000, 2400), null);
  assert.equal(s.sample('web', 11, 4000, 0), null);
});

test('two CPUs busy are 200 %; two services keep their own windows; keepOnly forgets the others', () => {
  const { s, set } = sampler();
  set(1, usage(0));
  set(2, usage(0));
  s.sample('a', 1, 0, 1);
  s.sample('b', 2, 0, 1);
  set(1, usage(2000));
  assert.equal(s.sample('a', 1, 1000, 1001)?.cpuPercent, 200);
  s.keepOnly(new Set(['a']));
  set(2, usage(500));
  assert.equal(s.sample('b', 2, 1000, 1000)?.cpuPercent, 50, 'b forgotten: over its life again');
});
