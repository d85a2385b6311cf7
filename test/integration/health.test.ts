/**
 * `warden health` against a real warden as PID 1: its exit code and its lines through a real
 * crash loop, a service not ready yet, a service wanted down, an invalid service, and the
 * named-services form.
 */
import assert from 'node:assert/strict';
import { access, rename, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { healthPaths } from '../../src/protocol/health-file.js';
import type { ServiceStatus } from '../../src/protocol/service-status.js';
import { cli, inSandbox, LONG_RUN, serviceOf, show, startWarden, statusOf } from './control-helpers.js';
import { eventually } from './harness.js';

test('warden health: 0 with every normally-up service up and ready; a service with a down file does not count unless named', { timeout: 120_000 }, async (t) => {
  const { socket } = await startWarden(t, { web: { run: LONG_RUN }, spare: { run: LONG_RUN, files: { down: '' } } });
  const all = await cli(socket, ['health']);
  assert.equal(all.code, 0, show(all));
  assert.equal(all.stdout, '', show(all));
  const named = await cli(socket, ['health', 'web', 'spare']);
  assert.equal(named.code, 1, show(named));
  assert.deepEqual(named.stdout.trim().split('\n'), ['spare: down, wanted down'], show(named));
  const unknown = await cli(socket, ['health', 'nope']);
  assert.notEqual(unknown.code, 0, show(unknown));
  assert.match(unknown.stderr, /no service named nope/, show(unknown));
});

test('warden health: 1 naming a service in a crash loop, 0 again once it has run restart-reset ms', { timeout: 120_000 }, async (t) => {
  const { box, socket } = await startWarden(
    t,
    {
      web: { run: LONG_RUN },
      // Crashes (exit 3) until its ok file exists, then runs.
      crasher: { run: `[ -e ${inSandbox('crasher-ok')} ] || exit 3\n${LONG_RUN}`, files: { 'restart-delay': '20 20', 'restart-reset': '1000' } },
    },
    () => true,
  );
  const ok = box.path('crasher-ok');
  await eventually('the crasher to be in a crash loop', async () => (await serviceOf(socket, 'crasher')).crashLoop, 60_000);
  const looping = await cli(socket, ['health']);
  assert.equal(looping.code, 1, show(looping));
  assert.match(looping.stdout, /^crasher: crash loop \(\d+ quick deaths, last exit 3\)\n$/, show(looping));
  // Named: only the named service is judged.
  assert.equal((await cli(socket, ['health', 'web'])).code, 0);

  // Once it runs for restart-reset ms (1 s), the loop is over (test/unit/control: not before).
  await writeFile(ok, '');
  await eventually('the crash loop to be over', async () => !(await serviceOf(socket, 'crasher')).crashLoop, 60_000);
  const healed = await cli(socket, ['health']);
  assert.equal(healed.code, 0, show(healed));
});

test('warden health: 1 while a service is started but not ready, and while one wanted up is down', { timeout: 120_000 }, async (t) => {
  const { box, socket } = await startWarden(
    t,
    {
      // Ready (fd 3) only once its gate file exists.
      db: { run: `until [ -e ${inSandbox('db-gate')} ]; do sleep 0.05; done\necho >&3\n${LONG_RUN}`, files: { 'notification-fd': '3' } },
      web: { run: LONG_RUN },
    },
    (all) => all.every((s) => s.state === 'up' || s.state === 'starting'),
  );
  const gate = box.path('db-gate');
  const starting = await cli(socket, ['health']);
  assert.equal(starting.code, 1, show(starting));
  assert.equal(starting.stdout, 'db: started, not ready yet\n', show(starting));
  await writeFile(gate, '');
  await eventually('db to be ready', async () => (await serviceOf(socket, 'db')).ready, 60_000);
  assert.equal((await cli(socket, ['health'])).code, 0);
  // Wanted down by an operator: a normally-up service down is unhealthy (the container is not what it should be).
  assert.equal((await cli(socket, ['down', 'web'])).code, 0);
  await eventually('web to be down', async () => (await serviceOf(socket, 'web')).state === 'down', 60_000);
  const down = await cli(socket, ['health']);
  assert.equal(down.code, 1, show(down));
  assert.equal(down.stdout, 'web: down, wanted down\n', show(down));
});

test('an invalid service is in status (table and --json) as invalid with its file, line and problem, and fails health; dependents say why', { timeout: 120_000 }, async (t) => {
  const { box, socket } = await startWarden(
    t,
    {
      web: { run: LONG_RUN },
      bad: { run: LONG_RUN, files: { 'down-signal': 'SIGFOO\n' } },
      // Depends on bad: it cannot start either.
      api: { run: LONG_RUN, files: { dependencies: 'bad\n' } },
    },
    (all) => all.some((s) => s.name === 'web' && s.state === 'up'),
  );
  const json = await cli(socket, ['status', '--json']);
  assert.equal(json.code, 0, show(json));
  const all = JSON.parse(json.stdout) as ServiceStatus[];
  assert.deepEqual(all.map((s) => [s.name, s.state]), [['api', 'invalid'], ['bad', 'invalid'], ['web', 'up']], show(json));
  const bad = all.find((s) => s.name === 'bad')!;
  assert.equal(bad.problems.length, 1, show(json));
  assert.equal(bad.problems[0]!.file, box.path('services.d', 'bad', 'down-signal'));
  assert.equal(bad.problems[0]!.line, 1);
  assert.match(bad.problems[0]!.message, /SIGFOO/);
  assert.deepEqual([bad.pid, bad.ready, bad.normallyUp], [null, false, true]);
  assert.match(all.find((s) => s.name === 'api')!.problems[0]!.message, /depends on bad, which cannot start/);
  assert.deepEqual(all.find((s) => s.name === 'web')!.problems, []);

  const table = await cli(socket, ['status']);
  assert.equal(table.code, 0, show(table));
  const badRow = table.stdout.split('\n').find((l) => l.startsWith('bad '));
  assert.ok(badRow !== undefined, show(table));
  assert.match(badRow, /^bad\s+invalid\s/);
  assert.ok(badRow.includes(`${box.path('services.d', 'bad', 'down-signal')}:1: `), show(table));

  const health = await cli(socket, ['health']);
  assert.equal(health.code, 1, show(health));
  const lines = health.stdout.trim().split('\n');
  assert.equal(lines.length, 2, show(health));
  assert.match(lines[0]!, /^api: invalid, cannot start: .*depends on bad, which cannot start$/);
  assert.match(lines[1]!, new RegExp(`^bad: invalid, cannot start: ${box.path('services.d', 'bad', 'down-signal')}:1: .*SIGFOO`));
  assert.equal((await cli(socket, ['health', 'web'])).code, 0, 'named: only web is judged');

  const up = await cli(socket, ['up', 'bad']);
  assert.notEqual(up.code, 0, show(up));
  assert.match(up.stderr, /bad: invalid, cannot start/, show(up));

  // Fixed on disk: the rescan starts it and it is no longer invalid.
  await writeFile(box.path('services.d', 'bad', 'down-signal'), 'SIGTERM\n');
  await eventually('bad and api to run once fixed', async () => (await statusOf(socket)).every((s) => s.state === 'up'), 60_000);
  assert.equal((await cli(socket, ['health'])).code, 0);
});

test('warden health reads the health file beside the socket while warden runs; once warden is killed, it says none runs', { timeout: 120_000 }, async (t) => {
  const { box, warden, socket } = await startWarden(t, { web: { run: LONG_RUN }, idle: { run: LONG_RUN, files: { down: '' } } });
  const { file, live } = healthPaths(socket);
  await eventually('the health file and its FIFO beside the socket', () => Promise.all([access(file), access(live)]).then(() => true, () => false), 15_000);

  // With the socket moved away, only the file can answer: the same answers as the socket's.
  const away = box.path('socket-moved-away');
  await rename(socket, away);
  const status = await cli(socket, ['status']);
  assert.equal(status.code, 111, `status needs the socket: ${show(status)}`);
  const all = await cli(socket, ['health']);
  assert.equal(all.code, 0, show(all));
  const named = await cli(socket, ['health', 'idle', 'web', 'idle']);
  assert.equal(named.code, 1, show(named));
  assert.equal(named.stdout, 'idle: down, wanted down\n', show(named));
  await rename(away, socket);

  // A change shows in the file on warden's next turn, before the command's reply is read.
  assert.equal((await cli(socket, ['down', 'web'])).code, 0);
  const down = await cli(socket, ['health']);
  assert.equal(down.code, 1, show(down));
  assert.equal(down.stdout, 'web: down, wanted down\n', show(down));

  // Killed, warden leaves its files: the FIFO has no reader any more, and the file does not answer.
  await warden.signal('SIGKILL');
  await warden.waitForExit(30_000);
  await access(file);
  const gone = await cli(socket, ['health']);
  assert.equal(gone.code, 111, show(gone));
  assert.match(gone.stderr, /no warden is running/, show(gone));
});
