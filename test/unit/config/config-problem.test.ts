import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatProblem } from '../../../src/config/config-problem.js';

describe('formatProblem', () => {
  it('puts the line after the file when there is one', () => {
    assert.equal(
      formatProblem({ file: '/x/web/timeout-kill', line: 1, message: 'expected a whole number' }),
      '/x/web/timeout-kill:1: expected a whole number',
    );
  });
  it('leaves the line out when it is null', () => {
    assert.equal(formatProblem({ file: '/x/web/run', line: null, message: 'no run file' }), '/x/web/run: no run file');
  });
});
