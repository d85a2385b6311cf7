import assert from 'node:assert/strict';
import { mkfifo } from './fifo.js';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { envValue, readEnvDir } from '../../../src/config/env-dir.js';
import { matchProblems, tempRoot, writeTree } from './helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

async function envDir(files: Parameters<typeof writeTree>[1]): Promise<string> {
  counter += 1;
  return writeTree(join(root, `env${counter}`), files);
}

describe('envValue: s6-envdir value rules on raw bytes', () => {
  const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
  const cases: { name: string; input: Uint8Array; expected: string | null }[] = [
    { name: 'a 0-byte file removes the variable (null)', input: new Uint8Array(0), expected: null },
    { name: 'a lone newline sets the empty string', input: bytes('\n'), expected: '' },
    { name: 'only the first line is used', input: bytes('first\nsecond\n'), expected: 'first' },
    { name: 'trailing spaces and tabs are removed', input: bytes('value \t \t\n'), expected: 'value' },
    { name: 'leading spaces are kept', input: bytes('  value'), expected: '  value' },
    { name: 'a carriage return is not whitespace to s6-envdir', input: bytes('value\r\n'), expected: 'value\r' },
    { name: 'NUL bytes become newlines', input: bytes('line1\0line2\0'), expected: 'line1\nline2\n' },
    { name: 'NUL is converted after trimming, so a NUL shields the spaces before it', input: bytes('a \0'), expected: 'a \n' },
    { name: 'UTF-8 is decoded', input: bytes('café\n'), expected: 'café' },
    { name: 'no trailing newline is fine', input: bytes('x'), expected: 'x' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(envValue(c.input), c.expected));
  }
});

describe('readEnvDir', () => {
  it('reads every regular file as a variable, with s6-envdir values', async () => {
    const dir = await envDir({
      PORT: '3000\n',
      MOTD: 'hello\0world  \n',
      UNSET_ME: '',
      EMPTY: '\n',
      'sub/IGNORED': 'x',
      '.hidden': 'x',
    });
    const r = await readEnvDir(dir);
    assert.deepEqual(r, { env: { EMPTY: '', MOTD: 'hello\nworld', PORT: '3000', UNSET_ME: null }, problems: [] });
  });

  it('a missing env dir is an empty environment', async () => {
    assert.deepEqual(await readEnvDir(join(root, 'no-env-here')), { env: {}, problems: [] });
  });

  it('a variable name containing "=" is a problem naming that file', async () => {
    const dir = await envDir({ 'A=B': 'x\n', OK: 'y\n' });
    const r = await readEnvDir(dir);
    assert.deepEqual(r.env, { OK: 'y' });
    const err = matchProblems(r.problems, [{ file: join(dir, 'A=B'), line: null, includes: 'contains "="' }]);
    assert.equal(err, null, err ?? '');
  });

  it('a symlink to a regular file counts as that file', async () => {
    const dir = await envDir({ 'real/VALUE': 'linked\n' });
    await symlink(join(dir, 'real', 'VALUE'), join(dir, 'LINKED'));
    assert.deepEqual(await readEnvDir(dir), { env: { LINKED: 'linked' }, problems: [] });
  });

  it('a FIFO is a problem, not a hang', async (t) => {
    const dir = await envDir({});
    if (!(await mkfifo(join(dir, 'PIPE')))) {
      t.skip('mkfifo not available');
      return;
    }
    const r = await readEnvDir(dir);
    const err = matchProblems(r.problems, [{ file: join(dir, 'PIPE'), line: null, includes: 'is not a regular file' }]);
    assert.equal(err, null, err ?? '');
  });

  it('a variable named __proto__ is an ordinary own key', async () => {
    const dir = await envDir({ ['__proto__']: 'x\n' });
    const r = await readEnvDir(dir);
    assert.equal(Object.prototype.hasOwnProperty.call(r.env, '__proto__'), true);
    assert.equal(r.env['__proto__'], 'x');
  });
});
