import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notifyVerdict, type ProcessLookup } from '../../../src/core/notify-access.js';

/** A process table: pid → [parent, uid]; a pid not in it is gone. */
function table(procs: Record<number, readonly [number, number]>): ProcessLookup {
  return { parentOf: (pid) => procs[pid]?.[0] ?? null, uidOf: (pid) => procs[pid]?.[1] ?? null };
}

// warden 1 → main 10 (uid 100) → shell 11 → notifier 12; an intruder 20 (uid 200) under warden.
const PROCS = table({ 1: [0, 0], 10: [1, 100], 11: [10, 100], 12: [11, 100], 20: [1, 200], 30: [1, 100] });

describe('notifyVerdict', () => {
  it('the main process may always report', () => {
    assert.deepEqual(notifyVerdict('main', 10, { pid: 10, uid: 100 }, PROCS), { ok: true });
    assert.deepEqual(notifyVerdict('all', 10, { pid: 10, uid: 100 }, PROCS), { ok: true });
  });

  it('all: a descendant of the main process may report; main: it may not', () => {
    assert.deepEqual(notifyVerdict('all', 10, { pid: 12, uid: 100 }, PROCS), { ok: true });
    const refused = notifyVerdict('main', 10, { pid: 12, uid: 100 }, PROCS);
    assert.equal(refused.ok, false);
  });

  it("a process outside the service's tree is refused, even as the service's user", () => {
    assert.equal(notifyVerdict('all', 10, { pid: 20, uid: 200 }, PROCS).ok, false);
    assert.equal(notifyVerdict('all', 10, { pid: 30, uid: 100 }, PROCS).ok, false);
  });

  it("a sender gone before its message is read counts only as the main process's user", () => {
    assert.deepEqual(notifyVerdict('all', 10, { pid: 99, uid: 100 }, PROCS), { ok: true });
    const other = notifyVerdict('all', 10, { pid: 99, uid: 200 }, PROCS);
    assert.equal(other.ok, false);
    assert.match(other.ok ? '' : other.reason, /is gone and ran as another user/);
    assert.equal(notifyVerdict('main', 10, { pid: 99, uid: 100 }, PROCS).ok, false);
  });

  it('no credentials: refused', () => {
    assert.equal(notifyVerdict('all', 10, null, PROCS).ok, false);
  });

  it('a parent loop (pids reused while walking) ends, refused', () => {
    const loop = table({ 10: [1, 100], 40: [41, 100], 41: [40, 100] });
    assert.equal(notifyVerdict('all', 10, { pid: 40, uid: 100 }, loop).ok, false);
  });
});
