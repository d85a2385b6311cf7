/**
 * `warden --version` prints package.json's version. The npm package is packed (`npm pack`) and
 * run from where it was unpacked, from a cwd with no package.json of its own: yargs' guess (a
 * package.json near the main script or the cwd) is not what answers. The release's executable
 * is checked in test/roots.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, Sandbox } from './harness.js';

const run = promisify(execFile);

test('warden --version of the packed npm package prints package.json version', { timeout: 120_000 }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const { version, bin } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; bin: { warden: string } };
  const { stdout } = await run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', box.path('.')], { cwd: REPO_ROOT });
  await run('tar', ['-C', box.path('.'), '-xzf', box.path(stdout.trim().split('\n').at(-1)!)]);
  // Its dependencies, as npm would have installed them beside it.
  await symlink(join(REPO_ROOT, 'node_modules'), box.path('package/node_modules'));
  // The `warden` that npm installs (its bin), which hands what is not a plain control command to yargs.
  const r = await run(process.execPath, [box.path(join('package', bin.warden)), '--version'], { cwd: '/' });
  assert.equal(r.stdout.trim(), version);
});
