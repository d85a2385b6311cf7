import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRequest } from '../../../src/protocol/parse-request.js';
import type { ErrorCode } from '../../../src/protocol/reply.js';
import { PROTOCOL_VERSION, type RequestLine } from '../../../src/protocol/commands.js';

const line = (obj: unknown): string => JSON.stringify(obj);

const valid: readonly { readonly name: string; readonly line: string; readonly want: RequestLine }[] = [
  { name: 'status, all services', line: line({ v: 1, cmd: 'status' }), want: { v: 1, cmd: 'status', services: [] } },
  {
    name: 'status, named, with a number id',
    line: line({ v: 1, id: 7, cmd: 'status', services: ['web'] }),
    want: { v: 1, id: 7, cmd: 'status', services: ['web'] },
  },
  {
    name: 'up with a string id',
    line: line({ v: 1, id: 'a', cmd: 'up', services: ['web', 'db'] }),
    want: { v: 1, id: 'a', cmd: 'up', services: ['web', 'db'] },
  },
  { name: 'down', line: line({ v: 1, cmd: 'down', services: ['web'] }), want: { v: 1, cmd: 'down', services: ['web'] } },
  { name: 'restart', line: line({ v: 1, cmd: 'restart', services: ['web'] }), want: { v: 1, cmd: 'restart', services: ['web'] } },
  { name: 'once', line: line({ v: 1, cmd: 'once', services: ['web'] }), want: { v: 1, cmd: 'once', services: ['web'] } },
  {
    name: 'signal, its name made SIGNAME',
    line: line({ v: 1, cmd: 'signal', signal: 'HUP', services: ['web'] }),
    want: { v: 1, cmd: 'signal', signal: 'SIGHUP', services: ['web'] },
  },
  {
    name: 'signal by number',
    line: line({ v: 1, cmd: 'signal', signal: '10', services: ['web'] }),
    want: { v: 1, cmd: 'signal', signal: 'SIGUSR1', services: ['web'] },
  },
  {
    name: 'units',
    line: line({ v: 1, cmd: 'units' }),
    want: { v: 1, cmd: 'units' },
  },
  {
    name: 'change down, with a timeout',
    line: line({ v: 1, cmd: 'change', direction: 'down', timeoutMs: 300, services: ['db'] }),
    want: { v: 1, cmd: 'change', direction: 'down', timeoutMs: 300, services: ['db'] },
  },
  {
    name: 'wait with every field',
    line: line({ v: 1, cmd: 'wait', condition: 'ready', timeoutMs: 5000, services: ['db'] }),
    want: { v: 1, cmd: 'wait', condition: 'ready', timeoutMs: 5000, services: ['db'], any: false },
  },
  {
    name: 'wait for any one of them (s6-svwait -o)',
    line: line({ v: 1, cmd: 'wait', condition: 'ready', timeoutMs: 5000, services: ['db', 'web'], any: true }),
    want: { v: 1, cmd: 'wait', condition: 'ready', timeoutMs: 5000, services: ['db', 'web'], any: true },
  },
  {
    name: 'wait defaults: up, no limit',
    line: line({ v: 1, cmd: 'wait', services: ['db'] }),
    want: { v: 1, cmd: 'wait', condition: 'up', timeoutMs: 0, services: ['db'], any: false },
  },
  {
    name: 'wait down',
    line: line({ v: 1, cmd: 'wait', condition: 'down', timeoutMs: 0, services: ['db'] }),
    want: { v: 1, cmd: 'wait', condition: 'down', timeoutMs: 0, services: ['db'], any: false },
  },
  { name: 'halt with a code', line: line({ v: 1, cmd: 'halt', code: 7 }), want: { v: 1, cmd: 'halt', code: 7 } },
  { name: 'halt defaults to 0', line: line({ v: 1, cmd: 'halt' }), want: { v: 1, cmd: 'halt', code: 0 } },
  { name: 'halt 255', line: line({ v: 1, cmd: 'halt', code: 255 }), want: { v: 1, cmd: 'halt', code: 255 } },
  { name: 'reload', line: line({ v: 1, cmd: 'reload' }), want: { v: 1, cmd: 'reload' } },
  {
    name: 'unknown fields are ignored, not copied',
    line: line({ v: 1, cmd: 'reload', extra: true, services: 'x' }),
    want: { v: 1, cmd: 'reload' },
  },
];

describe('parseRequest: valid requests', () => {
  for (const c of valid) {
    test(c.name, () => {
      const parsed = parseRequest(c.line);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(parsed.request, c.want);
    });
  }
});

const invalid: readonly { readonly name: string; readonly line: string; readonly code: ErrorCode; readonly id?: number | string | null }[] = [
  { name: 'not JSON', line: 'hello', code: 'bad-request' },
  { name: 'empty line', line: '', code: 'bad-request' },
  { name: 'truncated JSON', line: '{"v":1,"cmd":"status"', code: 'bad-request' },
  { name: 'binary junk', line: '\u0000\u0001\u00ff\ufffd', code: 'bad-request' },
  { name: 'a JSON array', line: '[1,2]', code: 'bad-request' },
  { name: 'a JSON string', line: '"status"', code: 'bad-request' },
  { name: 'a JSON number', line: '1', code: 'bad-request' },
  { name: 'JSON null', line: 'null', code: 'bad-request' },
  { name: 'no version', line: line({ cmd: 'status' }), code: 'unsupported-version', id: null },
  { name: 'version 2, id echoed', line: line({ v: 2, id: 3, cmd: 'status' }), code: 'unsupported-version', id: 3 },
  { name: 'version as a string', line: line({ v: '1', cmd: 'status' }), code: 'unsupported-version', id: null },
  { name: 'missing cmd', line: line({ v: 1, id: 'x' }), code: 'bad-request', id: 'x' },
  { name: 'cmd not a string', line: line({ v: 1, cmd: 5 }), code: 'bad-request', id: null },
  { name: 'unknown cmd', line: line({ v: 1, id: 9, cmd: 'explode' }), code: 'unknown-command', id: 9 },
  { name: 'cmd with the wrong case', line: line({ v: 1, cmd: 'STATUS' }), code: 'unknown-command', id: null },
  { name: 'services not an array', line: line({ v: 1, cmd: 'up', services: 'web' }), code: 'bad-request', id: null },
  { name: 'services holds a number', line: line({ v: 1, cmd: 'status', services: ['web', 1] }), code: 'bad-request', id: null },
  { name: 'services null on status', line: line({ v: 1, cmd: 'status', services: { a: 1 } }), code: 'bad-request', id: null },
  { name: 'up with no services', line: line({ v: 1, cmd: 'up', services: [] }), code: 'bad-request', id: null },
  { name: 'down with services missing', line: line({ v: 1, cmd: 'down' }), code: 'bad-request', id: null },
  { name: 'wait with no services', line: line({ v: 1, cmd: 'wait' }), code: 'bad-request', id: null },
  { name: 'signal without a signal', line: line({ v: 1, cmd: 'signal', services: ['web'] }), code: 'bad-request', id: null },
  { name: 'signal empty', line: line({ v: 1, cmd: 'signal', signal: '', services: ['web'] }), code: 'bad-request', id: null },
  { name: 'signal as a number', line: line({ v: 1, cmd: 'signal', signal: 9, services: ['web'] }), code: 'bad-request', id: null },
  { name: 'signal unknown', line: line({ v: 1, id: 5, cmd: 'signal', signal: 'NOPE', services: ['web'] }), code: 'bad-request', id: 5 },
  { name: 'signal number past the named ones', line: line({ v: 1, cmd: 'signal', signal: '40', services: ['web'] }), code: 'bad-request', id: null },
  { name: 'change without a direction', line: line({ v: 1, cmd: 'change', services: ['db'] }), code: 'bad-request', id: null },
  { name: 'change with no services', line: line({ v: 1, cmd: 'change', direction: 'up' }), code: 'bad-request', id: null },
  { name: 'wait, unknown condition', line: line({ v: 1, cmd: 'wait', condition: 'sideways', services: ['a'] }), code: 'bad-request', id: null },
  { name: 'wait, any not a boolean', line: line({ v: 1, cmd: 'wait', any: 'yes', services: ['a'] }), code: 'bad-request', id: null },
  { name: 'wait, negative timeout', line: line({ v: 1, cmd: 'wait', timeoutMs: -1, services: ['a'] }), code: 'bad-request', id: null },
  { name: 'wait, timeout past the longest timer (it would fire at once)', line: line({ v: 1, cmd: 'wait', timeoutMs: 2 ** 31, services: ['a'] }), code: 'bad-request', id: null },
  { name: 'wait, fractional timeout', line: line({ v: 1, cmd: 'wait', timeoutMs: 1.5, services: ['a'] }), code: 'bad-request', id: null },
  { name: 'wait, timeout as a string', line: line({ v: 1, cmd: 'wait', timeoutMs: '100', services: ['a'] }), code: 'bad-request', id: null },
  { name: 'halt, code 256', line: line({ v: 1, cmd: 'halt', code: 256 }), code: 'bad-request', id: null },
  { name: 'halt, code -1', line: line({ v: 1, cmd: 'halt', code: -1 }), code: 'bad-request', id: null },
  { name: 'halt, code 1.5', line: line({ v: 1, cmd: 'halt', code: 1.5 }), code: 'bad-request', id: null },
  { name: 'halt, code as a string', line: line({ v: 1, id: 4, cmd: 'halt', code: '7' }), code: 'bad-request', id: 4 },
];

describe('parseRequest: invalid requests get exact error codes', () => {
  for (const c of invalid) {
    test(c.name, () => {
      const parsed = parseRequest(c.line);
      assert.equal(parsed.ok, false, JSON.stringify(parsed));
      if (parsed.ok) return;
      assert.equal(parsed.error.code, c.code);
      assert.ok(parsed.error.message.length > 0, 'an error has a message for people');
      if ('id' in c) assert.equal(parsed.id ?? null, c.id);
    });
  }

  test('an object id is not echoed', () => {
    const parsed = parseRequest(line({ v: 1, id: { x: 1 }, cmd: 'nope' }));
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.equal(parsed.id, null);
  });

  test('never throws, whatever the input', () => {
    for (const text of ['{', '}', '{"__proto__":{"v":1}}', '\n', 'x'.repeat(10_000), '{"v":1,"cmd":"constructor"}', '{"v":1,"cmd":"toString"}']) {
      assert.doesNotThrow(() => parseRequest(text), text.slice(0, 40));
      assert.equal(parseRequest(text).ok, false, text.slice(0, 40));
    }
  });

  test('the version it speaks is 1', () => {
    assert.equal(PROTOCOL_VERSION, 1);
  });
});

describe('parseRequest: null is not absent', () => {
  test('wait with timeoutMs null is a bad request (the CLI sends NaN as null)', () => {
    const parsed = parseRequest(line({ v: 1, cmd: 'wait', timeoutMs: null, services: ['a'] }));
    assert.equal(parsed.ok ? 'ok' : parsed.error.code, 'bad-request');
  });
  test('halt with code null is a bad request', () => {
    const parsed = parseRequest(line({ v: 1, cmd: 'halt', code: null }));
    assert.equal(parsed.ok ? 'ok' : parsed.error.code, 'bad-request');
  });
});
