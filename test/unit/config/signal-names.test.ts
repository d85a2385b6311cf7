import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSignalName } from '../../../src/config/signal-names.js';

describe('parseSignalName', () => {
  const valid: [string, string][] = [
    ['TERM', 'SIGTERM'],
    ['SIGINT', 'SIGINT'],
    ['sighup', 'SIGHUP'],
    ['Usr1', 'SIGUSR1'],
    ['  QUIT  ', 'SIGQUIT'],
    ['KILL', 'SIGKILL'],
    ['15', 'SIGTERM'],
    ['6', 'SIGABRT'],
  ];
  for (const [input, expected] of valid) {
    it(`${JSON.stringify(input)} is ${expected}`, () => assert.deepEqual(parseSignalName(input), { ok: true, signal: expected }));
  }

  const invalid: [string, string][] = [
    ['FOO', 'expected a signal name such as TERM, INT, HUP, QUIT, USR1 or KILL, got "FOO"'],
    ['SIG', 'got "SIG"'],
    ['SIGSIGTERM', 'got "SIGSIGTERM"'],
    ['999', 'got "999"'],
    ['-15', 'got "-15"'],
    ['STOP', 'never exits'],
    ['sigstop', 'never exits'],
    ['19', 'never exits'],
  ];
  for (const [input, includes] of invalid) {
    it(`${JSON.stringify(input)} is refused: ${includes}`, () => {
      const r = parseSignalName(input);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.message.includes(includes), JSON.stringify(r));
    });
  }
});
