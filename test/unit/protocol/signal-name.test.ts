import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, test } from 'node:test';
import { normalizeSignal, signalNumber, signalNumberOf } from '../../../src/protocol/signal-name.js';
import { SIGNAL_TABLE } from '../../../src/core/signal-table.js';

/** What Node itself can send: every name it knows, and for a number its first name. */
const NODE_SIGNALS: Readonly<Record<string, number>> = constants.signals;
const firstNameOf = (n: number): string | null => Object.keys(NODE_SIGNALS).find((k) => NODE_SIGNALS[k] === n) ?? null;

describe('normalizeSignal', () => {
  test('every name Node can send is known, with or without SIG, in any case', () => {
    for (const name of Object.keys(NODE_SIGNALS)) {
      for (const written of [name, name.slice(3), name.toLowerCase(), ` ${name.slice(3).toLowerCase()}\n`]) {
        assert.equal(normalizeSignal(written), name, JSON.stringify(written));
      }
    }
  });

  test('a number is the first name Node gives it (SIGABRT, not SIGIOT), none past the named ones', () => {
    for (let n = 0; n <= 70; n++) assert.equal(normalizeSignal(String(n)), firstNameOf(n), String(n));
    assert.equal(normalizeSignal('6'), 'SIGABRT');
    assert.equal(normalizeSignal('29'), 'SIGIO');
    assert.equal(normalizeSignal('015'), 'SIGTERM');
  });

  test('anything else names no signal', () => {
    for (const text of ['', 'SIG', 'SIGSIGTERM', 'FOO', '-15', '1.5', 'RTMIN', 'SIGRTMIN+1', '32', 'constructor', 'TERM 15']) {
      assert.equal(normalizeSignal(text), null, JSON.stringify(text));
    }
  });

  test('signalNumber is the number of every name Node can send, and of no other', () => {
    for (const [name, number] of Object.entries(NODE_SIGNALS)) assert.equal(signalNumber(name), number, name);
    for (const text of ['TERM', 'sigterm', '15', 'SIGRTMIN', '']) assert.equal(signalNumber(text), null, JSON.stringify(text));
  });

  test('signalNumberOf reads every name of the signal table, real-time ones included, and numbers 1 to 64', () => {
    for (const entry of SIGNAL_TABLE) {
      if (entry.name.startsWith('SIG')) assert.equal(signalNumberOf(entry.name.slice(3).toLowerCase()), entry.number, entry.name);
      assert.equal(signalNumberOf(String(entry.number)), entry.number);
    }
    assert.equal(signalNumberOf('RTMIN+3'), 37);
    assert.equal(signalNumberOf('SIGIOT'), 6);
    for (const text of ['0', '65', 'RTMIN+31', 'FOO', '']) assert.equal(signalNumberOf(text), null, JSON.stringify(text));
  });
});
