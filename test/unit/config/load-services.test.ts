import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadServiceDirs } from '../../../src/config/load-services.js';
import { DEFAULTS, defaultSpec, matchProblems, tempRoot, writeService } from './helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

async function scanDir(): Promise<string> {
  counter += 1;
  const dir = join(root, `scan${counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('loadServiceDirs', () => {
  it('loads every service, sorted by name', async () => {
    const dir = await scanDir();
    for (const name of ['web', 'api', 'serf']) await writeService(dir, name);
    const r = await loadServiceDirs([dir], DEFAULTS);
    assert.deepEqual(r, {
      services: ['api', 'serf', 'web'].map((n) => defaultSpec(join(dir, n), n)),
      problems: [],
      invalid: [],
    });
  });

  it('sorts by name across dirs', async () => {
    const a = await scanDir();
    const b = await scanDir();
    await writeService(a, 'zeta');
    await writeService(b, 'alpha');
    const r = await loadServiceDirs([a, b], DEFAULTS);
    assert.deepEqual(r.services.map((s) => s.name), ['alpha', 'zeta']);
  });

  it('a broken service is reported and left out, listed as invalid with its problems; the good one next to it loads', async () => {
    const dir = await scanDir();
    await writeService(dir, 'good');
    await writeService(dir, 'bad', { 'timeout-kill': '3s\n' });
    const r = await loadServiceDirs([dir], DEFAULTS);
    assert.deepEqual(r.services, [defaultSpec(join(dir, 'good'), 'good')]);
    const problems = [
      {
        file: join(dir, 'bad', 'timeout-kill'),
        line: 1,
        message: 'expected a whole number of milliseconds (e.g. 3000), got "3s"',
      },
    ];
    assert.deepEqual(r.problems, problems);
    assert.deepEqual(r.invalid, [{ name: 'bad', dir: join(dir, 'bad'), problems }]);
  });

  it('a service in a later dir with the same name is a problem naming both; the first wins', async () => {
    const first = await scanDir();
    const second = await scanDir();
    await writeService(first, 'web', { restart: 'never\n' });
    await writeService(second, 'web');
    const r = await loadServiceDirs([first, second], DEFAULTS);
    assert.deepEqual(r.services, [{ ...defaultSpec(join(first, 'web'), 'web'), restart: 'never' }]);
    const err = matchProblems(r.problems, [
      { file: join(second, 'web'), line: null, includes: `service "web" is already defined by ${join(first, 'web')}` },
    ]);
    assert.equal(err, null, err ?? '');
  });

  it('dirs that do not exist are skipped silently', async () => {
    const dir = await scanDir();
    await writeService(dir, 'web');
    const r = await loadServiceDirs([join(root, 'nope'), dir, join(root, 'nope', 'deeper')], DEFAULTS);
    assert.deepEqual(r, { services: [defaultSpec(join(dir, 'web'), 'web')], problems: [], invalid: [] });
  });

  it('a scan path that is a file is a problem', async () => {
    const file = join(root, 'not-a-scan-dir');
    await writeFile(file, 'x');
    const r = await loadServiceDirs([file], DEFAULTS);
    const err = matchProblems(r.problems, [{ file, line: null, includes: 'is not a directory' }]);
    assert.equal(err, null, err ?? '');
  });

  it('ignores dot entries and plain files', async () => {
    const dir = await scanDir();
    await writeService(dir, 'web');
    await writeService(dir, '.disabled');
    await writeFile(join(dir, 'README'), 'notes');
    const r = await loadServiceDirs([dir], DEFAULTS);
    assert.deepEqual(r, { services: [defaultSpec(join(dir, 'web'), 'web')], problems: [], invalid: [] });
  });

  it('follows symlinks to service dirs, as s6 scan dirs use them', async () => {
    const dir = await scanDir();
    const store = await scanDir();
    await writeService(store, 'real-web');
    await symlink(join(store, 'real-web'), join(dir, 'web'));
    const r = await loadServiceDirs([dir], DEFAULTS);
    assert.deepEqual(r, { services: [defaultSpec(join(dir, 'web'), 'web')], problems: [], invalid: [] });
  });

  it('an invalid service name is a problem on that directory', async () => {
    const dir = await scanDir();
    await writeService(dir, 'my service');
    await writeService(dir, 'ok');
    const r = await loadServiceDirs([dir], DEFAULTS);
    assert.deepEqual(r.services.map((s) => s.name), ['ok']);
    const err = matchProblems(r.problems, [{ file: join(dir, 'my service'), line: null, includes: 'may contain only letters' }]);
    assert.equal(err, null, err ?? '');
  });

  it('accepts every allowed name character', async () => {
    const dir = await scanDir();
    await writeService(dir, 'A-z_0.9@x');
    const r = await loadServiceDirs([dir], DEFAULTS);
    assert.deepEqual(r.services.map((s) => s.name), ['A-z_0.9@x']);
  });
});
