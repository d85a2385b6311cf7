/**
 * The fault signals' flood guard in virtual time: more than FAULT_FLOOD_PER_SECOND deliveries of
 * one within a second of warden's clock give it its default action back; as many spread wider do not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { SignalSource } from '../../../src/daemon/init-edges.js';
import { armNativeSignals, FAULT_FLOOD_PER_SECOND, type SignalRoutes } from '../../../src/daemon/signal-router.js';

/** A signal source whose deliveries the test makes, and the clock they come by. */
function world(): { routes: SignalRoutes; deliver: (name: string) => void; restored: number[]; forwarded: string[]; at: (ms: number) => void } {
  let now = 0;
  const handlers = new Map<string, () => void>();
  const restored: number[] = [];
  const forwarded: string[] = [];
  const source: SignalSource = {
    listen: (_number, name, handler) => (handlers.set(name, handler), null),
    block: () => undefined,
    ignoreLibc: () => true,
    restoreDefault: (signal) => void restored.push(signal),
  };
  const routes: SignalRoutes = {
    logger: pino({ level: 'silent' }),
    clock: { now: () => now },
    hup: 'rescan',
    stop: () => undefined,
    rescan: () => undefined,
    forward: (_signal, name) => (forwarded.push(name), []),
  };
  armNativeSignals(routes, source);
  return { routes, deliver: (name) => handlers.get(name)!(), restored, forwarded, at: (ms) => void (now = ms) };
}

test('a fault signal sent more than FAULT_FLOOD_PER_SECOND times within a second of the clock gets its default action back', () => {
  const w = world();
  for (let i = 0; i <= FAULT_FLOOD_PER_SECOND; i++) {
    w.at(i * 0.5);
    w.deliver('SIGSEGV');
  }
  assert.deepEqual(w.restored, [11]);
  assert.equal(w.forwarded.length, FAULT_FLOOD_PER_SECOND, 'the ones within the limit were forwarded');
});

test('as many spread over more than a second of the clock are each forwarded, and the default action stays off', () => {
  const w = world();
  for (let i = 0; i < 3 * FAULT_FLOOD_PER_SECOND; i++) {
    w.at(i * 1.5);
    w.deliver('SIGSEGV');
  }
  assert.deepEqual(w.restored, []);
  assert.equal(w.forwarded.length, 3 * FAULT_FLOOD_PER_SECOND);
});
