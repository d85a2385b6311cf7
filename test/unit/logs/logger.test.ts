import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { createLogger, logLine, serializeError } from '../../../src/adapters/logger.js';

// The tests read JSON lines, also when run on a terminal.
process.env.WARDEN_LOG_FORMAT = 'json';

/** What pino itself writes for the same event (the format warden's log promises). */
function pinoLine(level: 'info' | 'error', fields: object, msg: string): Record<string, unknown> {
  let line = '';
  const logger = pino({ base: null, level: 'trace' }, { write: (s: string) => void (line = s) });
  logger[level](fields, msg);
  return JSON.parse(line) as Record<string, unknown>;
}

function withoutTime(record: Record<string, unknown>): Record<string, unknown> {
  const { time, ...rest } = record;
  assert.equal(typeof time, 'number');
  return rest;
}

describe('logger', () => {
  test('a record has pino fields in pino order: level, time, the fields, msg', () => {
    assert.equal(logLine(30, 1000, { service: 'web', event: 'started', pid: 42, skipped: undefined }, 'started'), '{"level":30,"time":1000,"service":"web","event":"started","pid":42,"msg":"started"}\n');
  });

  test('an event reads the same as pino writes it', () => {
    const fields = { service: 'web', event: 'exited', code: 1, list: ['a'], nested: { x: 1 } };
    const lines: string[] = [];
    createLogger('info', (l) => void lines.push(l)).info(fields, 'exited');
    assert.deepEqual(withoutTime(JSON.parse(lines[0]!) as Record<string, unknown>), withoutTime(pinoLine('info', fields, 'exited')));
  });

  test('an error under err reads the same as pino serializes it, code and cause included', () => {
    const err = Object.assign(new Error('bind failed', { cause: new Error('EADDRINUSE') }), { code: 'EADDRINUSE', syscall: 'bind' });
    const lines: string[] = [];
    createLogger('info', (l) => void lines.push(l)).error({ event: 'control-error', err }, 'control-error');
    assert.deepEqual(withoutTime(JSON.parse(lines[0]!) as Record<string, unknown>), withoutTime(pinoLine('error', { event: 'control-error', err }, 'control-error')));
  });

  test('a non-error under err is written as it is', () => {
    assert.equal(serializeError('boom'), 'boom');
  });

  test('levels below the threshold are dropped; silent drops all; an unknown level is refused', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', (l) => void lines.push(l));
    logger.info({ event: 'a' }, 'a');
    logger.warn({ event: 'b' }, 'b');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { event: string }).event), ['b']);
    const silent = createLogger('silent', (l) => void lines.push(l));
    silent.fatal({ event: 'c' }, 'c');
    assert.equal(lines.length, 1);
    assert.throws(() => createLogger('loud'), /unknown level loud/);
  });

  test('a circular field does not cost the line', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    assert.match(logLine(30, 1, { loop }, 'x'), /"loop":"\[object Object\]"/);
  });
});
