/** The readiness files of a service dir: `notify-socket`, `check` and its three settings. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadServiceDir } from '../../../src/config/load-services.js';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { DEFAULTS, RUN, defaultSpec, matchProblems, scriptsFingerprint, tempRoot, writeService, type Entry } from './helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

async function service(files: Readonly<Record<string, Entry>>): Promise<string> {
  counter += 1;
  return writeService(root, `ready${counter}`, files);
}

const CHECK_BODY = '#!/bin/sh\nexec test -e /tmp/ok\n';
const CHECK: Entry = { content: CHECK_BODY, mode: 0o755 };

/** The spec of a dir with run, an executable check and `files`, with `check` fields over the defaults. */
function specWithCheck(dir: string, check: Partial<NonNullable<ServiceSpec['check']>> = {}): ServiceSpec {
  return {
    ...defaultSpec(dir, dir.slice(dir.lastIndexOf('/') + 1)),
    scriptsFingerprint: scriptsFingerprint(RUN.content, null, CHECK_BODY),
    check: { file: join(dir, 'check'), intervalMs: 5000, timeoutMs: 2000, retries: 3, ...check },
  };
}

describe('notify-socket', () => {
  for (const [content, access] of [['', 'all'], ['1\n', 'all'], ['all\n', 'all'], ['main\n', 'main']] as const) {
    it(`present (containing ${JSON.stringify(content)}): notifySocket is true, notifyAccess ${access}`, async () => {
      const dir = await service({ 'notify-socket': content });
      const r = await loadServiceDir(dir, DEFAULTS);
      assert.deepEqual(r.problems, []);
      assert.equal(r.spec?.notifySocket, true);
      assert.equal(r.spec?.notifyAccess, access);
    });
  }

  it('another word is a problem naming the choices', async () => {
    const dir = await service({ 'notify-socket': 'anyone\n' });
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.equal(r.spec, null);
    assert.match(r.problems.map((p) => p.message).join('\n'), /expected all, main or 1, got "anyone"/);
  });

  it('absent: notifySocket is false', async () => {
    const dir = await service({});
    assert.equal((await loadServiceDir(dir, DEFAULTS)).spec?.notifySocket, false);
  });
});

describe('check and its settings', () => {
  it('an executable check gets every default: every 5000 ms, 2000 ms timeout, 3 retries', async () => {
    const dir = await service({ check: CHECK });
    assert.deepEqual(await loadServiceDir(dir, DEFAULTS), { spec: specWithCheck(dir), problems: [] });
  });

  const valid: { file: string; text: string; expect: Partial<NonNullable<ServiceSpec['check']>> }[] = [
    { file: 'check-interval', text: '250\n', expect: { intervalMs: 250 } },
    { file: 'check-interval', text: '10', expect: { intervalMs: 10 } },
    { file: 'check-timeout', text: '0\n', expect: { timeoutMs: 0 } },
    { file: 'check-timeout', text: '15000\n', expect: { timeoutMs: 15000 } },
    { file: 'check-retries', text: '1\n', expect: { retries: 1 } },
    { file: 'check-retries', text: '1000\n', expect: { retries: 1000 } },
  ];
  for (const c of valid) {
    it(`${c.file} containing ${JSON.stringify(c.text)}`, async () => {
      const dir = await service({ check: CHECK, [c.file]: c.text });
      assert.deepEqual(await loadServiceDir(dir, DEFAULTS), { spec: specWithCheck(dir, c.expect), problems: [] });
    });
  }

  const invalid: { file: string; text: string; includes: string }[] = [
    { file: 'check-interval', text: '5s\n', includes: 'expected a whole number of milliseconds from 10 to 2147483647, got "5s"' },
    { file: 'check-interval', text: '0\n', includes: 'from 10 to 2147483647, got "0"' },
    { file: 'check-timeout', text: '2s\n', includes: 'expected a whole number of milliseconds (e.g. 2000), got "2s"' },
    { file: 'check-retries', text: '0\n', includes: 'expected a whole number of failed runs from 1 to 1000, got "0"' },
    { file: 'check-retries', text: 'three\n', includes: 'got "three"' },
  ];
  for (const c of invalid) {
    it(`${c.file} containing ${JSON.stringify(c.text)}: ${c.includes}`, async () => {
      const dir = await service({ check: CHECK, [c.file]: c.text });
      const r = await loadServiceDir(dir, DEFAULTS);
      assert.equal(r.spec, null);
      const err = matchProblems(r.problems, [{ file: join(dir, c.file), line: 1, includes: c.includes }]);
      assert.equal(err, null, err ?? '');
    });
  }

  it('a check that is not executable is one problem (its settings are not reported again)', async () => {
    const dir = await service({ check: { content: CHECK_BODY, mode: 0o644 }, 'check-interval': '100\n' });
    const r = await loadServiceDir(dir, DEFAULTS);
    const err = matchProblems(r.problems, [{ file: join(dir, 'check'), line: null, includes: 'check is not executable: run chmod +x' }]);
    assert.equal(err, null, err ?? '');
  });

  it('check settings without a check file are a problem each, naming where check should be', async () => {
    const dir = await service({ 'check-interval': '100\n', 'check-retries': '2\n' });
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.equal(r.spec, null);
    const err = matchProblems(r.problems, [
      { file: join(dir, 'check-interval'), line: null, includes: `check-interval without a check file: add an executable ${join(dir, 'check')}` },
      { file: join(dir, 'check-retries'), line: null, includes: 'check-retries without a check file' },
    ]);
    assert.equal(err, null, err ?? '');
  });

  it('an edited check changes the scripts digest, so a rescan restarts the service', async () => {
    const dir = await service({ check: CHECK });
    const before = (await loadServiceDir(dir, DEFAULTS)).spec?.scriptsFingerprint;
    await writeFile(join(dir, 'check'), '#!/bin/sh\nexit 0\n');
    const after = (await loadServiceDir(dir, DEFAULTS)).spec?.scriptsFingerprint;
    assert.notEqual(before, undefined);
    assert.notEqual(after, before);
  });
});
