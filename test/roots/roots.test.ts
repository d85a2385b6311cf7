/**
 * The release tarball goes into any root, as s6-overlay's does: a root of busybox-static alone
 * (no C library, no Node), and a root whose only C library is musl (what an Alpine image is),
 * with a service built by musl-gcc. Each gets the tarball unpacked at /, a cont-init.d script
 * (`#!/command/with-contenv sh`) and two services.d services, and boots /init as the real PID 1
 * of a new PID namespace, chrooted there. Then, from inside the root: `warden status` answers,
 * both services are up, a SIGKILLed service comes back, an orphan is reaped (koffi's waitpid,
 * from the libraries the release ships), `/command/s6-rc` takes a service down and up, `warden
 * --version` names the package's version, and SIGTERM ends the container with 0.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../integration/harness.js';
import { addMusl, bootAndCheck, makeRoot, needs, script } from './release.js';

const run = promisify(execFile);
const ORPHAN_MAKER = join(REPO_ROOT, 'test/fixtures/roots/orphan-maker.c');

test('busybox-static root: /init from the release boots, supervises, reaps and stops with 0', { timeout: 180_000 }, async (t) => {
  needs('release', 'busybox');
  const { box, root } = await makeRoot(t);
  // The orphan: the subshell exits at once, its sleep is re-parented to PID 1.
  await script(join(root, 'etc/services.d/beta/run'), '#!/bin/sh\n(sleep 1 & echo $! > /run/orphan.pid)\nexec sleep 100000\n');
  await bootAndCheck(box, root);
});

test('musl root: /init from the release boots, supervises a musl-gcc service, reaps and stops with 0', { timeout: 180_000 }, async (t) => {
  needs('release', 'busybox', 'musl');
  const { box, root } = await makeRoot(t);
  await mkdir(join(root, 'etc/services.d/beta'), { recursive: true });
  // The service's run file is the musl program itself.
  await addMusl(root, ORPHAN_MAKER, join(root, 'etc/services.d/beta/run'));
  const { stdout } = await run('file', ['-L', join(root, 'etc/services.d/beta/run')]).catch(() => ({ stdout: '' }));
  if (stdout !== '') assert.match(stdout, /ld-musl/, 'the service is linked against musl');
  await bootAndCheck(box, root);
});
