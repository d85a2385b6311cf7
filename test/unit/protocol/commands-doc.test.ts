import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS, parseRequest } from '../../../src/protocol/parse-request.js';

const PROTOCOL_MD = fileURLToPath(new URL('../../../../docs/control-protocol.md', import.meta.url));

/** The commands docs/control-protocol.md's request table lists (its first column). */
function documented(): string[] {
  const doc = readFileSync(PROTOCOL_MD, 'utf8');
  const table = doc.slice(doc.indexOf('| cmd |'), doc.indexOf('\n\n', doc.indexOf('| cmd |')));
  return table
    .split('\n')
    .slice(2)
    .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1]!));
}

test('docs/control-protocol.md lists every command, and only those', () => {
  assert.deepEqual([...documented()].sort(), [...COMMANDS].sort());
});

test('every command is known to parseRequest (none answers unknown-command)', () => {
  for (const cmd of COMMANDS) {
    const parsed = parseRequest(JSON.stringify({ v: 1, cmd }));
    assert.ok(parsed.ok || parsed.error.code !== 'unknown-command', cmd);
  }
});
