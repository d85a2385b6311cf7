import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { coalesceFiles, markDirty, runCoalesced, tryLock, unlock, type CoalesceFiles } from '../../../src/stack/serf-handler/coalesce.js';

let dir: string;
let files: CoalesceFiles;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stack-coalesce-'));
  files = coalesceFiles(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('serial, coalescing handler runs', () => {
  test('one invocation: one pass, lock released', async () => {
    let passes = 0;
    const result = await runCoalesced(files, async () => {
      passes++;
    });
    assert.deepEqual(result, { ran: true, passes: 1 });
    assert.equal(passes, 1);
    assert.equal(tryLock(files), true, 'the lock is free again');
    unlock(files);
  });

  test('invocations during a pass only mark dirty; the running one does one more pass for all of them', async () => {
    let passes = 0;
    let others: Promise<{ ran: boolean }>[] = [];
    const first = runCoalesced(files, async () => {
      passes++;
      if (passes === 1) {
        // A burst of three events while the first pass runs.
        others = [1, 2, 3].map(() => runCoalesced(files, async () => void passes++));
        await sleep(20);
      }
    });
    const result = await first;
    const burst = await Promise.all(others);
    assert.deepEqual(burst.map((r) => r.ran), [false, false, false]);
    assert.equal(result.passes, 2);
    assert.equal(passes, 2);
  });

  test('a lock left by a dead process is taken over', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(files.lock, dead.stdout);
    const result = await runCoalesced(files, async () => undefined);
    assert.equal(result.ran, true);
  });

  test('a lock held by a live process is respected', async () => {
    writeFileSync(files.lock, String(process.ppid));
    const result = await runCoalesced(files, async () => assert.fail('must not run'));
    assert.deepEqual(result, { ran: false, passes: 0 });
    assert.notEqual(readFileSync(files.dirty, 'utf8'), '', 'the change is marked for the holder');
  });

  test('a mark made after the last check still gets its pass', async () => {
    let passes = 0;
    await runCoalesced(files, async () => {
      passes++;
      // Simulates an event arriving while the pass ends; the loop sees the new token.
      if (passes === 1) markDirty(files);
    });
    assert.equal(passes, 2);
  });
});
