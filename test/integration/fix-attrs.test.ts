/**
 * fix-attrs.d under warden as PID 1, as s6-overlay documents it: each line
 * `PATHS RECURSE ACCOUNT[,FALLBACK] FILEMODE DIRMODE` gives PATHS (a glob) the owner, files
 * FILEMODE and directories DIRMODE, and with RECURSE `true` everything under a directory too,
 * hidden entries left alone unless S6_FIX_ATTRS_HIDDEN=1. It runs before cont-init.d.
 * The files live in the test's own temporary dir; the image's /etc is overlaid in the sandbox.
 *
 * (s6-overlay 3.2.1.0's own fix-attrs script, run for comparison, stops at the first directory
 * with more than one entry when RECURSE is true: it hands them to s6-chown as one name. warden
 * does what the documentation says, which is what images ship these lines for.)
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from './harness.js';
import { overlayBox } from './overlay-box.js';

test('fix-attrs.d sets owner and modes, recursively or not, before cont-init.d, as PID 1', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'warden-fix-attrs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const files: Record<string, string> = {
    'rec/a.txt': 'a',
    'rec/b.txt': 'b',
    'rec/sub/c.txt': 'c',
    'rec/.hidden': 'h',
    'single/inner.txt': 'i',
    'file.txt': 'f',
    'glob-1.log': '1',
    'glob-2.log': '2',
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(data, name, '..'), { recursive: true });
    await writeFile(join(data, name), text, { mode: 0o644 });
  }
  const etc = join(dir, 'etc');
  await mkdir(join(etc, 'fix-attrs.d'), { recursive: true });
  await writeFile(
    join(etc, 'fix-attrs.d/01-perms'),
    [
      '# a comment, then one line per case',
      `${data}/rec true nobody,65534:65534 0640 0750`,
      `${data}/single false 1234:2345 0600 0700`,
      `${data}/file.txt false nobody:nogroup 0604 0700`,
      `${data}/glob-*.log false 4321:4321 0444 0700`,
      // An account the container does not have, with no fallback: this line fails, the others apply.
      `${data}/file.txt false no-such-user 0600 0700`,
      '',
    ].join('\n'),
  );
  await mkdir(join(etc, 'cont-init.d'));
  await writeFile(join(etc, 'cont-init.d/10-done'), '#!/bin/sh\n/etc/s6-overlay/scripts/record cont-init-done\n');
  await chmod(join(etc, 'cont-init.d/10-done'), 0o755);

  const { box, boot } = await overlayBox(t, 'fix-attrs', etc);
  const warden = boot();
  await eventually('cont-init.d ran', async () => {
    if (warden.exited) throw new Error(warden.tail());
    return (await box.read('marks/events'))?.includes('cont-init-done') ? true : null;
  }, 90_000, 100);

  const attrs = async (name: string): Promise<string> => {
    const s = await stat(join(data, name));
    return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
  };
  // Recursive: the dir, its files and its subdir's; the hidden file untouched.
  assert.equal(await attrs('rec'), '65534:65534 750');
  assert.equal(await attrs('rec/a.txt'), '65534:65534 640');
  assert.equal(await attrs('rec/b.txt'), '65534:65534 640');
  assert.equal(await attrs('rec/sub'), '65534:65534 750');
  assert.equal(await attrs('rec/sub/c.txt'), '65534:65534 640');
  assert.equal(await attrs('rec/.hidden'), '0:0 644');
  // Not recursive: the dir only, with uid:gid given as numbers.
  assert.equal(await attrs('single'), '1234:2345 700');
  assert.equal(await attrs('single/inner.txt'), '0:0 644');
  // user:group names, a file: FILEMODE.
  assert.equal(await attrs('file.txt'), '65534:65534 604');
  // A glob: every match.
  assert.equal(await attrs('glob-1.log'), '4321:4321 444');
  assert.equal(await attrs('glob-2.log'), '4321:4321 444');
  const failed = warden.find((e) => e.event === 'fix-attrs-failed');
  assert.equal(failed.length, 1, warden.tail());
  assert.match(String(failed[0]!.msg), /01-perms:6: .*no account "?no-such-user/, warden.tail());

  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(60_000)).code, 0, warden.tail());
});
