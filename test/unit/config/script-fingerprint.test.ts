import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprintOf, scriptsFingerprint, WHOLE_SCRIPT_MAX_BYTES } from '../../../src/config/script-fingerprint.js';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'warden-fingerprint-'));
});
after(async () => rm(root, { recursive: true, force: true }));

describe('scripts fingerprint', () => {
  it('is the same for the same bytes and changes with any edit, even one of the same length', async () => {
    const run = join(root, 'run');
    await writeFile(run, '#!/bin/sh\nexec sleep 1\n');
    const first = await scriptsFingerprint([run, null, null]);
    await writeFile(run, '#!/bin/sh\nexec sleep 1\n');
    assert.equal(await scriptsFingerprint([run, null, null]), first, 'rewritten with the same bytes');
    await writeFile(run, '#!/bin/sh\nexec sleep 2\n');
    assert.notEqual(await scriptsFingerprint([run, null, null]), first);
  });

  it('tells an absent script from an empty one, and which slot a script is in', async () => {
    const empty = join(root, 'empty');
    await writeFile(empty, '');
    const absent = join(root, 'absent');
    const prints = new Set([
      await scriptsFingerprint([empty, null, null]),
      await scriptsFingerprint([absent, null, null]),
      await scriptsFingerprint([null, empty, null]),
      await scriptsFingerprint([null, null, empty]),
    ]);
    assert.equal(prints.size, 4);
    assert.equal(await scriptsFingerprint([absent, null, null]), await scriptsFingerprint([null, null, null]));
  });

  it('keeps parts apart whatever bytes they hold', () => {
    const a = fingerprintOf([{ bytes: Buffer.from('ab') }, { bytes: Buffer.from('c') }, null]);
    const b = fingerprintOf([{ bytes: Buffer.from('a') }, { bytes: Buffer.from('bc') }, null]);
    const c = fingerprintOf([{ bytes: Buffer.from('1:ba') }, null, null]);
    const d = fingerprintOf([{ bytes: Buffer.from('') }, { bytes: Buffer.from('a') }, null]);
    assert.equal(new Set([a, b, c, d]).size, 4);
  });

  it('counts a file above the size limit by size, times and inode, so a write to it is an edit', async () => {
    const big = join(root, 'big');
    await writeFile(big, Buffer.alloc(WHOLE_SCRIPT_MAX_BYTES + 1, 0x61));
    const first = await scriptsFingerprint([big, null, null]);
    assert.ok(first.length < 100, `a big file is not kept whole (${first.length} chars)`);
    assert.equal(await scriptsFingerprint([big, null, null]), first, 'unchanged file, same fingerprint');
    await appendFile(big, 'b');
    const grown = await scriptsFingerprint([big, null, null]);
    assert.notEqual(grown, first);
    // Same size and contents as before, only the times differ: still counted as an edit.
    await truncate(big, WHOLE_SCRIPT_MAX_BYTES + 1);
    await utimes(big, new Date(2000, 0, 1), new Date(2000, 0, 1));
    assert.notEqual(await scriptsFingerprint([big, null, null]), first);
  });
});
