/** The container environment dir (s6-dumpenv's format), written on real files. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeStaleEnvDirs, writeEnvDir } from '../../../src/daemon/overlay-runtime.js';

const root = mkdtempSync(join(tmpdir(), 'warden-envdir-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('writeEnvDir', () => {
  it('writes one file per variable holding its value, mode 0600 in a 0700 dir (it holds secrets), and skips names that cannot be files', async () => {
    const dir = join(root, 'plain', 'container_environment');
    await writeEnvDir(dir, { PATH: '/usr/bin:/bin', EMPTY: '', MULTI: 'a\nb', 'A=B': 'x', 'a/b': 'x', '.hidden': 'x', '': 'x' });
    assert.deepEqual(readdirSync(dir).sort(), ['EMPTY', 'MULTI', 'PATH']);
    assert.equal(readFileSync(join(dir, 'PATH'), 'utf8'), '/usr/bin:/bin');
    assert.equal(readFileSync(join(dir, 'EMPTY'), 'utf8'), '');
    assert.equal(readFileSync(join(dir, 'MULTI'), 'utf8'), 'a\nb');
    assert.equal(statSync(join(dir, 'PATH')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it("replaces an earlier boot's dir: its variables are gone, and its copy is removed afterwards", async () => {
    const dir = join(root, 'stale', 'container_environment');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'OLD'), 'from the last boot');
    await writeEnvDir(dir, { NEW: '1' });
    assert.deepEqual(readdirSync(dir), ['NEW']);
    assert.equal(readdirSync(dirname(dir)).length, 2, 'the old dir was moved aside');
    removeStaleEnvDirs([dir]);
    assert.deepEqual(readdirSync(dirname(dir)), ['container_environment']);
  });

  it('writes thousands of variables with only 128 file descriptors allowed', () => {
    // Run in a child whose fd limit is low: writing every file at once would fail with EMFILE.
    const dir = join(root, 'many', 'container_environment');
    const module = new URL('../../../src/daemon/overlay-runtime.js', import.meta.url).href;
    const script = `
      const { writeEnvDir } = await import(${JSON.stringify(module)});
      const env = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => ['VAR_' + i, 'value ' + i]));
      await writeEnvDir(${JSON.stringify(dir)}, env);`;
    const child = spawnSync('sh', ['-c', 'ulimit -n 128 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(readdirSync(dir).length, 3000);
    assert.equal(readFileSync(join(dir, 'VAR_2999'), 'utf8'), 'value 2999');
  });

  it('fails when the dir cannot be written, naming the error', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, '');
    await assert.rejects(writeEnvDir(join(file, 'container_environment'), { A: '1' }), /ENOTDIR|EEXIST/);
  });
});
