import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exitCodeOf, finishArgs, isSuccess, type ExitStatus } from '../../../src/core/exit-status.js';

const cases: readonly { readonly status: ExitStatus; readonly code: number; readonly args: readonly [string, string]; readonly ok: boolean }[] = [
  { status: { kind: 'exited', code: 0 }, code: 0, args: ['0', '0'], ok: true },
  { status: { kind: 'exited', code: 1 }, code: 1, args: ['1', '0'], ok: false },
  { status: { kind: 'exited', code: 125 }, code: 125, args: ['125', '0'], ok: false },
  { status: { kind: 'exited', code: 255 }, code: 255, args: ['255', '0'], ok: false },
  { status: { kind: 'killed', signal: 9 }, code: 137, args: ['256', '9'], ok: false },
  { status: { kind: 'killed', signal: 15 }, code: 143, args: ['256', '15'], ok: false },
  { status: { kind: 'killed', signal: 2 }, code: 130, args: ['256', '2'], ok: false },
];

describe('exit status', () => {
  for (const c of cases) {
    const name = c.status.kind === 'exited' ? `exit ${c.status.code}` : `signal ${c.status.signal}`;
    test(`${name}: code ${c.code}, finish args ${c.args.join(' ')}, success ${c.ok}`, () => {
      assert.equal(exitCodeOf(c.status), c.code);
      assert.deepEqual(finishArgs(c.status), c.args);
      assert.equal(isSuccess(c.status), c.ok);
    });
  }
});
