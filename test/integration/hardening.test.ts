/**
 * What a probe of warden as a real PID 1 found could hurt it, each tried the way it was found:
 * configurations that could starve the event loop, churn that leaked fds, oversized input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAUNCH_FAILED_DELAY_MS } from '../../src/core/backoff.js';
import { LONG_RUN, startWarden, statusOf } from './control-helpers.js';

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
