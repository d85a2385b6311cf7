import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyExecline, tokenizeExecline } from '../../../src/config/execline-line.js';

describe('tokenizeExecline', () => {
  const cases: [string, string[]][] = [
    ['/etc/s6-overlay/scripts/init\n', ['/etc/s6-overlay/scripts/init']],
    ['  prog  a\tb\n c ', ['prog', 'a', 'b', 'c']],
    ['# a comment\nprog # trailing\n', ['prog']],
    ['prog "two words" "say \\"hi\\"\\n"', ['prog', 'two words', 'say "hi"\n']],
    ['prog a\\ b', ['prog', 'a b']],
    ['prog a#b', ['prog', 'a#b']],
    ['prog ""', ['prog', '']],
  ];
  for (const [text, words] of cases) {
    it(`splits ${JSON.stringify(text)}`, () => assert.deepEqual(tokenizeExecline(text), { ok: true, words }));
  }
  it('refuses an unclosed quote', () => assert.deepEqual(tokenizeExecline('prog "a'), { ok: false, message: 'a double quote is never closed' }));
});

describe('classifyExecline', () => {
  it('one command is argv', () =>
    assert.deepEqual(classifyExecline('with-contenv /etc/s6-overlay/scripts/init-adduser\n'), {
      kind: 'argv',
      argv: ['with-contenv', '/etc/s6-overlay/scripts/init-adduser'],
    }));
  it('nothing but comments is empty', () => assert.deepEqual(classifyExecline('# nothing\n\n'), { kind: 'empty' }));
  it('a block needs execline', () => assert.equal(classifyExecline('if { true } echo ok').kind, 'execline'));
  it('a chain-loading execline command needs execline', () =>
    assert.deepEqual(classifyExecline('importas -i HOME HOME echo $HOME'), { kind: 'execline', why: 'the execline command importas' }));
});
