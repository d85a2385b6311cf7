/** Which command lines the fast path takes (and with what arguments), and which it leaves to yargs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthCommand, statusCommand, waitCommand } from '../../../src/cli/control-commands.js';
import { plainArguments } from '../../../src/cli/fast-path.js';
import { notifyCommand } from '../../../src/cli/notify-command.js';

const argsOf = (argv: readonly string[]): Record<string, unknown> | null => plainArguments(argv)?.args ?? null;

test('fast path: plain forms get the arguments yargs would give the same handler', () => {
  assert.deepEqual(argsOf(['status']), { services: [], _: ['status'], $0: 'warden' });
  assert.deepEqual(argsOf(['status', 'web', '--json', 'db']), { json: true, services: ['web', 'db'], _: ['status'], $0: 'warden' });
  assert.deepEqual(argsOf(['health', 'db']), { services: ['db'], _: ['health'], $0: 'warden' });
  assert.deepEqual(argsOf(['up', 'web']), { services: ['web'], _: ['up'], $0: 'warden' });
  assert.deepEqual(argsOf(['wait', '--ready', '--timeout', '5000', 'db']), { ready: true, timeout: 5000, services: ['db'], _: ['wait'], $0: 'warden' });
  assert.deepEqual(argsOf(['wait', 'db']), { timeout: 0, services: ['db'], _: ['wait'], $0: 'warden' }, "yargs' default timeout");
  assert.deepEqual(argsOf(['notify', '--status', 'loading 40%', 'X=1']), { status: 'loading 40%', fields: ['X=1'], _: ['notify'], $0: 'warden' });
});

test("fast path: each command runs yargs' own handler", () => {
  assert.equal(plainArguments(['status'])?.shape.module, statusCommand);
  assert.equal(plainArguments(['health'])?.shape.module, healthCommand);
  assert.equal(plainArguments(['wait', 'x'])?.shape.module, waitCommand);
  assert.equal(plainArguments(['notify', '--ready'])?.shape.module, notifyCommand);
});

test('fast path: anything not plain is left to yargs (help, usage errors, short and = flags, other commands)', () => {
  for (const argv of [
    [],
    ['statsu'],
    ['check'],
    ['logs', 'web'],
    ['signal', 'HUP', 'web'],
    ['halt'],
    ['reload'],
    ['boot'],
    ['status', '--help'],
    ['status', '-h'],
    ['status', '--json=true'],
    ['status', '--no-json'],
    ['status', '--json', '--json'],
    ['status', '--jsno'],
    ['up'],
    ['wait', '--up', '--down', 'web'],
    ['wait', '--timeout', 'soon', 'web'],
    ['wait', '--timeout', '-1', 'web'],
    ['wait', '--timeout'],
    ['notify', '--status'],
  ]) {
    assert.equal(plainArguments(argv), null, JSON.stringify(argv));
  }
});
