import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseForwardSignals } from '../../../src/config/setting-files.js';
import { isForwarded, SIGNAL_TABLE } from '../../../src/core/signal-table.js';

describe('forward-signals', () => {
  const value = (text: string): readonly number[] | string => {
    const parsed = parseForwardSignals('/s/forward-signals', text);
    return parsed.ok ? parsed.value : parsed.problems.map((p) => `${p.line}: ${p.message}`).join('\n');
  };

  it('an empty file takes every signal warden forwards, HUP included', () => {
    const all = SIGNAL_TABLE.filter((e) => isForwarded(e.role) || e.role === 'hup').map((e) => e.number);
    assert.deepEqual(value(''), all);
    assert.deepEqual(value('\n  \n'), all);
  });

  it('takes names with or without SIG, in any case, numbers and real-time names, on one line or several', () => {
    assert.deepEqual(value('USR1 sighup\n12\nrtmin+3 SIGRTMAX\n'), [1, 10, 12, 37, 64]);
  });

  it('refuses a signal that stops the container, with its line', () => {
    const message = value('USR1\nTERM\n');
    assert.equal(typeof message, 'string');
    assert.match(message as string, /^2: "TERM" is not a signal warden forwards/);
  });

  it('refuses a word that is no signal', () => assert.match(value('USR3') as string, /"USR3" is not a signal warden forwards/));
});
