/**
 * What a service dir can make warden read and print is bounded: a huge setting file is refused
 * after a bounded read, a bad value is quoted as a short excerpt, and a problem is one line
 * whatever characters its path holds.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXCERPT_CHARS, formatProblem } from '../../../src/config/config-problem.js';
import { loadServiceDir, loadServiceDirs } from '../../../src/config/load-services.js';
import { MAX_SETTING_BYTES } from '../../../src/config/read-setting.js';
import { DEFAULTS, tempRoot, writeService } from './helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

describe('setting files are read to a bound', () => {
  it('an 8 MiB down-signal is one short problem, and the rest of the dir still loads', async () => {
    const dir = await writeService(root, 'huge', { 'down-signal': Buffer.alloc(8 * 1024 * 1024) });
    const { spec, problems } = await loadServiceDir(dir, DEFAULTS);
    assert.equal(spec, null);
    assert.equal(problems.length, 1);
    const line = formatProblem(problems[0]!);
    assert.match(line, new RegExp(`down-signal: holds more than ${MAX_SETTING_BYTES} bytes \\(8388608\\)`));
    assert.ok(line.length < 300, `${line.length} characters`);
  });

  it('a setting of exactly the cap is read and judged on its value', async () => {
    const dir = await writeService(root, 'atcap', { 'down-signal': 'X'.repeat(MAX_SETTING_BYTES) });
    const { problems } = await loadServiceDir(dir, DEFAULTS);
    assert.equal(problems.length, 1);
    const line = formatProblem(problems[0]!);
    assert.match(line, /expected a signal name/);
    assert.match(line, new RegExp(`"X{${EXCERPT_CHARS}}"… \\(${MAX_SETTING_BYTES} characters\\)`));
    assert.ok(line.length < 300, `${line.length} characters`);
  });

  it('a long run of digits in a number setting is quoted as an excerpt', async () => {
    const dir = await writeService(root, 'digits', { 'timeout-kill': '9'.repeat(50_000) });
    const { problems } = await loadServiceDir(dir, DEFAULTS);
    assert.equal(problems.length, 1);
    assert.ok(formatProblem(problems[0]!).length < 300, formatProblem(problems[0]!).slice(0, 400));
  });

  it('NUL bytes are quoted as escapes, within the excerpt', async () => {
    const dir = await writeService(root, 'nuls', { restart: Buffer.alloc(1000) });
    const { problems } = await loadServiceDir(dir, DEFAULTS);
    const line = formatProblem(problems[0]!);
    assert.ok(line.length < 700, `${line.length} characters`);
    assert.doesNotMatch(line, /\0/);
  });
});

describe('a problem is one line', () => {
  it('a service dir whose name holds a newline is quoted in its problems', async () => {
    const parent = join(root, 'newline-parent');
    await mkdir(parent);
    await writeService(parent, 'bad\nname', { 'timeout-kill': 'soon\n' });
    const { problems } = await loadServiceDirs([parent], DEFAULTS);
    assert.ok(problems.length >= 1);
    for (const p of problems) {
      const line = formatProblem(p);
      assert.doesNotMatch(line, /\n/, line);
      assert.match(line, /bad\\nname/);
    }
  });

  it('a plain path stays as it is, for editors to jump to', () => {
    assert.equal(formatProblem({ file: '/etc/warden/services.d/web/timeout-kill', line: 1, message: 'm' }), '/etc/warden/services.d/web/timeout-kill:1: m');
  });

  it('control characters in a message are escaped', () => {
    assert.equal(formatProblem({ file: '/a', line: null, message: 'x\ny\u001b[31m' }), '/a: x\\ny\\u001b[31m');
  });
});
