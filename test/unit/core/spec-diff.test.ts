import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffSpecs } from '../../../src/core/spec-diff.js';
import { makeSpec } from './harness.js';

const byName = (...specs: ReturnType<typeof makeSpec>[]) => new Map(specs.map((s) => [s.name, s]));

test('a rescan plan sorts services into added, removed, changed and unchanged', () => {
  const current = byName(makeSpec({ name: 'a' }), makeSpec({ name: 'b' }), makeSpec({ name: 'c' }));
  const next = [makeSpec({ name: 'a' }), makeSpec({ name: 'b', timeoutKillMs: 1 }), makeSpec({ name: 'd' })];
  const diff = diffSpecs(current, next);
  assert.deepEqual(diff.added.map((s) => s.name), ['d']);
  assert.deepEqual(diff.removed, ['c']);
  assert.deepEqual(diff.changed.map((s) => s.name), ['b']);
  assert.deepEqual(diff.unchanged, ['a']);
});

test('key order and fresh objects do not count as a change; nested values and scripts do', () => {
  const a = makeSpec({ name: 'a', env: { X: '1', Y: null } });
  const reordered = { ...makeSpec({ name: 'a' }), env: { Y: null, X: '1' } };
  assert.deepEqual(diffSpecs(byName(a), [reordered]).unchanged, ['a']);
  assert.deepEqual(diffSpecs(byName(a), [{ ...a, env: { X: '2', Y: null } }]).changed.length, 1);
  assert.deepEqual(diffSpecs(byName(a), [{ ...a, scriptsFingerprint: 'other' }]).changed.length, 1);
  assert.deepEqual(diffSpecs(byName(a), [{ ...a, downAtBoot: true }]).changed.length, 1);
});
