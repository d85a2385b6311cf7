import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { svstatText } from '../../../src/cli/s6-svstat.js';
import { upStatus } from './status-fixture.js';

const killedBy = (signal: string) => upStatus({ state: 'down', pid: null, ready: false, lastExit: { signal } });

describe('s6-svstat: a service killed by a signal', () => {
  test('prints its name, and its number with -n or in signum', () => {
    assert.equal(svstatText(killedBy('SIGKILL'), ['signal', 'signum', 'exitcode'], false, 0), 'SIGKILL 9 -1\n');
    assert.match(svstatText(killedBy('SIGTERM'), null, true, 0), /^down \(signal 15\)/);
    assert.match(svstatText(killedBy('SIGTERM'), null, false, 0), /^down \(signal SIGTERM\)/);
  });

  test('an alias has its number too; a name warden does not know has none', () => {
    assert.equal(svstatText(killedBy('SIGIOT'), ['signum'], false, 0), '6\n');
    assert.equal(svstatText(killedBy('signal 40'), ['signum'], false, 0), '-1\n');
  });
});
