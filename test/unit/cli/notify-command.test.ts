import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../../../src/cli/control-client.js';
import { notifyLines } from '../../../src/cli/notify-command.js';

test('flags and FIELD=VALUE arguments make the lines of one message', () => {
  assert.deepEqual(notifyLines({ ready: true, status: 'serving 3', fields: ['MAINPID=42'] }), ['READY=1', 'STATUS=serving 3', 'MAINPID=42']);
  assert.deepEqual(notifyLines({ stopping: true }), ['STOPPING=1']);
});

test('nothing to send, a line without FIELD=, or a newline in a value is a usage error', () => {
  for (const args of [{}, { fields: ['ready'] }, { status: 'two\nlines' }, { fields: ['lower=1'] }]) {
    assert.throws(() => notifyLines(args), (err: unknown) => err instanceof CliError && err.exitCode === 100, JSON.stringify(args));
  }
});
