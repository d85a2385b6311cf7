/**
 * Fuzzes the control protocol: random request lines, built from valid requests with fields
 * dropped, retyped, duplicated and cut, plus raw bytes. parseRequest must never throw and must
 * accept only what the protocol allows; a live ControlServer must answer every line (or close
 * on an oversized one) and go on serving.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRequest } from '../../../src/protocol/parse-request.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../../../src/protocol/commands.js';
import { ControlServer } from '../../../src/adapters/control-server.js';
import { randomSource } from '../core/harness.js';
import { fuzzSettings } from './fuzz-settings.js';

const VALID: readonly Record<string, unknown>[] = [
  { cmd: 'status', services: [] },
  { cmd: 'status', services: ['web', 'db'] },
  { cmd: 'up', services: ['web'] },
  { cmd: 'down', services: ['web'] },
  { cmd: 'restart', services: ['a'] },
  { cmd: 'once', services: ['a'] },
  { cmd: 'signal', signal: 'HUP', services: ['a'] },
  { cmd: 'wait', condition: 'ready', timeoutMs: 100, any: true, services: ['a'] },
  { cmd: 'halt', code: 3 },
  { cmd: 'reload' },
];
const ODD_VALUES: readonly unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, 'x', '', '\u0000', [], [null], {}, { a: 1 }, 'é\u2028', ['web', 7]];

/** One fuzzed request line (no newline inside: JSON.stringify escapes them). */
function fuzzedLine(rand: () => number, pick: <T>(xs: readonly T[]) => T): string {
  const roll = rand();
  if (roll < 0.1) {
    // Raw bytes: not JSON at all, or JSON cut short.
    const text = JSON.stringify({ v: 1, ...pick(VALID) });
    return rand() < 0.5 ? text.slice(0, Math.floor(rand() * text.length)) : Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join('');
  }
  const request: Record<string, unknown> = { v: rand() < 0.9 ? PROTOCOL_VERSION : pick(ODD_VALUES), id: rand() < 0.5 ? Math.floor(rand() * 1000) : pick(ODD_VALUES), ...pick(VALID) };
  const keys = Object.keys(request);
  for (let edits = Math.floor(rand() * 3); edits > 0; edits--) {
    const key = pick([...keys, 'cmd', 'services', 'timeoutMs', 'code', 'signal', 'condition', 'any', '__proto__', 'constructor']);
    if (rand() < 0.3) delete request[key];
    else request[key] = pick(ODD_VALUES);
  }
  return JSON.stringify(request);
}

test('parseRequest: fuzzed lines never throw, and what it accepts is well formed', () => {
  const { count, seed } = fuzzSettings(5000);
  const { rand, pick } = randomSource(seed);
  let accepted = 0;
  for (let i = 0; i < count; i++) {
    const line = fuzzedLine(rand, pick);
    let parsed: ReturnType<typeof parseRequest>;
    try {
      parsed = parseRequest(line);
    } catch (err) {
      assert.fail(`seed ${seed}, case ${i}: parseRequest threw ${String(err)} on ${line}`);
    }
    if (!parsed.ok) {
      assert.equal(typeof parsed.error.message, 'string', `seed ${seed}, case ${i}`);
      continue;
    }
    accepted++;
    const r = parsed.request;
    assert.equal(r.v, PROTOCOL_VERSION, `seed ${seed}, case ${i}: ${line}`);
    if ('services' in r) assert.ok(r.services.every((s) => typeof s === 'string'), `seed ${seed}, case ${i}: ${line}`);
    if (r.cmd === 'halt') assert.ok(Number.isInteger(r.code) && r.code >= 0 && r.code <= 255, `seed ${seed}, case ${i}: ${line}`);
    if (r.cmd === 'wait') assert.ok(Number.isInteger(r.timeoutMs) && r.timeoutMs >= 0, `seed ${seed}, case ${i}: ${line}`);
  }
  // The generator must reach the accepting paths too, or it fuzzes only the error replies.
  assert.ok(accepted > count / 10, `only ${accepted} of ${count} accepted`);
});

test('ControlServer: every fuzzed line gets one reply, in order, and the server goes on', async (t) => {
  const { count, seed } = fuzzSettings(2000);
  const { rand, pick } = randomSource(seed + 1);
  const dir = await mkdtemp(join(tmpdir(), 'warden-fuzz-'));
  const server = new ControlServer(join(dir, 'control.sock'), async (request) => ({ ok: true, result: request.cmd }), (err) => assert.fail(String(err)));
  await server.listen();
  t.after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const lines = Array.from({ length: count }, () => fuzzedLine(rand, pick)).filter((l) => l.trim() !== '' && Buffer.byteLength(l) <= MAX_REQUEST_BYTES);
  // In batches on one connection, as a client pipelining requests would.
  const client = connect(join(dir, 'control.sock'));
  await new Promise<void>((resolve) => client.on('connect', resolve));
  client.setEncoding('utf8');
  let buffered = '';
  const replies: string[] = [];
  client.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      replies.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  for (let at = 0; at < lines.length; at += 50) {
    const batch = lines.slice(at, at + 50);
    const want = replies.length + batch.length;
    client.write(batch.map((l) => `${l}\n`).join(''));
    while (replies.length < want) await new Promise((r) => setTimeout(r, 5));
  }
  client.destroy();
  assert.equal(replies.length, lines.length);
  for (const [i, reply] of replies.entries()) {
    const parsed = JSON.parse(reply) as { v: number; ok: boolean };
    assert.equal(parsed.v, PROTOCOL_VERSION, `seed ${seed}, reply ${i}`);
    assert.equal(parseRequest(lines[i]!).ok, parsed.ok, `seed ${seed}, line ${i}: ${lines[i]} → ${reply}`);
  }
});
