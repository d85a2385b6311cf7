/**
 * What a probe of warden as a real PID 1 found could hurt it, each tried the way it was found:
 * configurations that could starve the event loop, churn that leaked fds, oversized input.
 */
import assert from 'node:assert/strict';
import { readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LAUNCH_FAILED_DELAY_MS } from '../../src/core/backoff.js';
import { LONG_RUN, rawExchange, startWarden, statusOf } from './control-helpers.js';
import { eventually } from './harness.js';

test('a run that cannot be executed, with restart-delay 0 0, neither hangs PID 1 nor floods its log', async (t) => {
  const started = performance.now();
  const { warden, socket } = await startWarden(
    t,
    { x: { run: '#!/nonexistent/sh\n', files: { 'restart-delay': '0 0\n' } }, y: { run: LONG_RUN } },
    (all) => all.find((s) => s.name === 'y')?.state === 'up' && all.some((s) => s.name === 'x' && s.restarts >= 1),
  );
  // Still answering, more than once, while x keeps failing.
  for (let i = 0; i < 3; i++) assert.equal((await statusOf(socket)).find((s) => s.name === 'y')?.state, 'up');
  const failures = warden.find((e) => e.event === 'spawn-failed' && e.service === 'x').length;
  const elapsed = performance.now() - started;
  // At most one launch per LAUNCH_FAILED_DELAY_MS since the test began (and the first at once).
  assert.ok(failures <= elapsed / LAUNCH_FAILED_DELAY_MS + 2, `${failures} spawn-failed lines in ${Math.round(elapsed)} ms`);
  await warden.signal('SIGTERM');
  assert.deepEqual(await warden.waitForExit(20_000), { code: 0, signal: null });
});

test('a removed service leaves no log file open: 10 add/reload/delete/reload rounds', async (t) => {
  const { box, warden, socket } = await startWarden(t, { keep: { run: LONG_RUN } });
  const pid = await warden.hostPid();
  const logFds = async (): Promise<string[]> => {
    const targets = await Promise.all((await readdir(`/proc/${pid}/fd`)).map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    return targets.filter((target) => target.startsWith(box.path('log')) && target.endsWith('/current'));
  };
  const reload = async (): Promise<void> => {
    const { replies } = await rawExchange(socket, `${JSON.stringify({ v: 1, cmd: 'reload' })}\n`, { timeoutMs: 20_000 });
    assert.equal((replies[0] as { ok?: boolean } | undefined)?.ok, true, JSON.stringify(replies));
  };
  for (let round = 0; round < 10; round++) {
    const name = `churn${round}`;
    // It writes a line, so its log file is opened.
    await box.service(name, { run: `echo hello from ${name}\n${LONG_RUN}` });
    await reload();
    await eventually(`${name}'s line in its log file`, async () => (await box.read(join('log', name, 'current')))?.includes('hello'), 15_000);
    await rm(join(box.servicesDir, name), { recursive: true });
    await reload();
    assert.equal((await statusOf(socket)).some((s) => s.name === name), false, `${name} still supervised`);
  }
  const open = await logFds();
  assert.ok(open.every((target) => target.includes('/keep/')), `log files of removed services still open: ${open.join(', ')}`);
});

test('a status naming one service 9 000 times answers it once', async (t) => {
  const { socket } = await startWarden(t, { y: { run: LONG_RUN } });
  const names = Array.from({ length: 9000 }, () => 'y');
  const { replies } = await rawExchange(socket, `${JSON.stringify({ v: 1, cmd: 'status', services: names })}\n`);
  const reply = replies[0] as { ok: boolean; result: unknown[] };
  assert.equal(reply.ok, true);
  assert.equal(reply.result.length, 1);
  const unknown = await rawExchange(socket, `${JSON.stringify({ v: 1, cmd: 'status', services: Array.from({ length: 5000 }, (_, i) => `n${i}`) })}\n`);
  const error = (unknown.replies[0] as { error: { code: string; message: string } }).error;
  assert.equal(error.code, 'unknown-service');
  assert.match(error.message, /^no service named n0, n1, .*, n9 and 4990 more$/);
});
