/**
 * s6-supervise's status file as warden writes it, with a wall clock the test sets: its stamps are
 * the times of the transitions, however late the file itself is made.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { boot, initialService, step } from '../../../src/core/service-machine.js';
import { S6SuperviseProtocol } from '../../../src/daemon/s6-supervise-protocol.js';
import { makeSpec } from '../core/harness.js';

/** The wall-clock ms of the TAI64N label at `offset` of a status file (as s6-svstat reads it). */
function stampAt(status: Buffer, offset: number): number {
  const seconds = status.readBigUInt64BE(offset) - (1n << 62n) - 37n;
  return Number(seconds) * 1000 + Math.floor(status.readUInt32BE(offset + 8) / 1_000_000);
}

test("a service that starts before its files are made is stamped with its start, not with the files' making", async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'warden-s6-status-'));
  let wall = 1_700_000_000_000;
  const protocol = new S6SuperviseProtocol({
    base,
    logger: pino({ level: 'silent' }),
    request: () => Promise.resolve({ ok: true, result: null }),
    wallClock: () => wall,
  });
  t.after(async () => {
    protocol.closeAll();
    await rm(base, { recursive: true, force: true });
  });
  // Taken in and spawned in one turn, as the supervisor does; the files come on the next turn.
  const spec = makeSpec({ name: 'db', notificationFd: 3 });
  const added = boot(initialService(spec, 0), 0).service;
  protocol.added(added);
  const started = step(added, { type: 'spawned', pid: 4242 }, 0).service;
  assert.equal(started.state.kind, 'starting');
  protocol.stepped(started);
  // A loaded machine: 2.5 s pass before that next turn.
  wall += 2500;
  await nextTurn();
  const status = await readFile(join(base, 'db', 'supervise', 'status'));
  assert.equal(status.readBigUInt64BE(24), 4242n, 'the status names the run');
  assert.equal(stampAt(status, 0), 1_700_000_000_000, 'up since the start');
});
