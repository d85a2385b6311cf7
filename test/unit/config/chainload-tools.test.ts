/** `warden check` names the s6 and execline programs that scripts call and the image lacks. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { missingTools } from '../../../src/config/chainload-tools.js';

async function file(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  await chmod(path, 0o755);
}

test('a script naming an s6 or execline program the root lacks is a problem at its line; shell builtins are not', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'warden-tools-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await file(join(root, 'bin/sh'), '');
  await file(join(root, 'usr/bin/s6-setuidgid'), '');
  const services = join(root, 'etc/services.d');
  await file(join(services, 'web/run'), '#!/bin/sh\nexport FOO=1\nif true; then wait; fi\nexec s6-setuidgid nobody s6-envuidgid nobody app\n');
  await file(join(services, 'cron/run'), '#!/command/execlineb -P\nimportas -i HOME HOME\ns6-echo hi\n');
  const rc = join(root, 'etc/s6-overlay/s6-rc.d');
  await file(join(rc, 'init/up'), 'foreground { /usr/bin/s6-setuidgid nobody true }\n');
  await file(join(root, 'etc/cont-init.d/10-x'), '#!/bin/sh\n/command/s6-envdir /env true\n');

  const problems = await missingTools(root, [services, rc], [join(root, 'etc/cont-init.d')]);
  const found = problems.map((p) => `${p.file.slice(root.length)}:${p.line} ${p.message.split(',')[0]}`).sort();
  assert.deepEqual(found, [
    '/etc/cont-init.d/10-x:2 names /command/s6-envdir',
    '/etc/s6-overlay/s6-rc.d/init/up:1 names foreground',
    '/etc/services.d/cron/run:1 names /command/execlineb',
    '/etc/services.d/cron/run:2 names importas',
    '/etc/services.d/cron/run:3 names s6-echo',
    '/etc/services.d/web/run:4 names s6-envuidgid',
  ]);
});
