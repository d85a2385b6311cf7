import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestLine } from '../../../src/protocol/commands.js';
import { parseRequest } from '../../../src/protocol/parse-request.js';
import { failure, parseReplyLine, replyLine, type Reply } from '../../../src/protocol/reply.js';

test('a reply line carries the version, the id and the outcome alone: nothing else a handler put in its reply', () => {
  const loose = { ok: true, result: ['a'], debug: 'internal' } as Reply;
  assert.deepEqual(replyLine(7, loose), { v: 1, id: 7, ok: true, result: ['a'] });
  assert.deepEqual(replyLine(null, { ...failure('timeout', 'not up'), debug: 1 } as Reply), { v: 1, id: null, ok: false, error: { code: 'timeout', message: 'not up' } });
});

test('what the server sends, the client reads back the same', () => {
  for (const reply of [replyLine(1, { ok: true, result: null }), replyLine('x', failure('unknown-service', 'no service named a'))]) {
    assert.deepEqual(parseReplyLine(JSON.stringify(reply)), reply);
  }
});

test('a line that is not a reply is null: not JSON, not an object, no ok, an error without code or message', () => {
  for (const text of ['hello', '[1]', 'null', '{"v":1}', '{"ok":true}', '{"ok":false}', '{"ok":false,"error":{"code":"x"}}', '{"ok":"yes","result":1}']) {
    assert.equal(parseReplyLine(text), null, text);
  }
});

test('an error code this client does not know is kept: a newer warden may send one', () => {
  assert.deepEqual(parseReplyLine('{"v":1,"id":1,"ok":false,"error":{"code":"brand-new","message":"m"}}')?.ok, false);
});

test('a request line as the client builds it is what the server parses', () => {
  const line = requestLine({ cmd: 'wait', condition: 'ready', timeoutMs: 500, any: false, services: ['web'] }, 3);
  const parsed = parseRequest(JSON.stringify(line));
  assert.deepEqual(parsed, { ok: true, request: line });
  assert.deepEqual(requestLine({ cmd: 'units' }), { v: 1, cmd: 'units' });
});
