/**
 * Init, the PID 1 lifecycle, on fake edges in virtual time: boot order, CMD's code, the
 * shutdown's deadlines, halts, signals and rescans, each at its exact virtual time. The
 * integration tests run the same lifecycle as a real PID 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BootSettings } from '../../../src/config/boot-settings.js';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { Init } from '../../../src/daemon/init.js';
import { makeSpec } from '../core/harness.js';
import { InitWorld, initSettings, overlayTree } from './init-world.js';
import { ignoresTerm, WALL_ORIGIN } from './virtual-edges.js';

const service = (name: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec =>
  makeSpec({ name, dir: `/etc/services.d/${name}`, run: `/etc/services.d/${name}/run`, ...overrides });

/** An Init on `world`, running: its exit code, and whether it came yet. */
function start(world: InitWorld, settings: Partial<BootSettings> = {}): { exit: Promise<number>; code: () => number | null } {
  let code: number | null = null;
  const exit = new Init(initSettings(settings), world.logger, world.initEdges).run();
  void exit.then((c) => (code = c));
  return { exit, code: () => code };
}

/** One service, `slow`, which ignores SIGTERM: its stop takes its timeout-kill, 3 s. */
function slowWorld(): InitWorld {
  const world = new InitWorld();
  world.units = overlayTree([service('slow', { timeoutKillMs: 3000 })]);
  world.reactions.set('/etc/services.d/slow/run', ignoresTerm);
  return world;
}

const exited = (code: number) => ({ kind: 'exited', code }) as const;

test('boot runs cont-init.d to its end, then the services, then CMD once they are up', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('db'), service('web')]);
  world.scripts.set('/etc/cont-init.d', ['/etc/cont-init.d/10-setup']);
  start(world);
  await world.advance(0);
  assert.deepEqual(world.processes.map((p) => p.req.file), ['/etc/cont-init.d/10-setup'], 'nothing else starts while cont-init.d runs');

  await world.advance(1000);
  world.exit(world.live('/etc/cont-init.d/10-setup').pid, exited(0));
  await world.advance(0);
  assert.deepEqual(
    world.processes.map((p) => [p.req.file, p.startedAt]),
    [['/etc/cont-init.d/10-setup', 0], ['/etc/services.d/db/run', 1000], ['/etc/services.d/web/run', 1000], ['/app/cmd', 1000]],
  );
  assert.equal(world.live('/app/cmd').req.detached, true);
});

test("CMD's exit code is the container's; the shutdown stops every service and runs its finish first", async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web', { finish: '/etc/services.d/web/finish' })]);
  const { exit, code } = start(world);
  await world.advance(0);
  const web = world.live('/etc/services.d/web/run');

  await world.advance(500);
  world.exit(world.live('/app/cmd').pid, exited(7));
  await world.advance(0);
  assert.deepEqual(world.exitcodeFile?.code, 7, "CMD's code is in the exitcode file for cont-finish.d");
  assert.deepEqual(web.signals.map((s) => [s.at, s.signal]), [[500, 'SIGTERM'], [500, 'SIGCONT']]);
  const finish = world.live('/etc/services.d/web/finish');
  assert.equal(code(), null, 'the container waits for the finish script');

  await world.advance(200);
  world.exit(finish.pid, exited(0));
  assert.equal(await exit, 7);
  assert.deepEqual(world.sweeps, [{ at: 700, live: [] }], 'the sweep comes after the finish, and finds nothing left');
  assert.equal(world.logged('exit')[0]?.code, 7);
});

test('SIGTERM stops the container within the kill deadline: a service that ignores TERM is killed at its timeout-kill', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('stubborn', { timeoutKillMs: 4000 }), service('polite')]);
  world.reactions.set('/etc/services.d/stubborn/run', ignoresTerm);
  const { exit, code } = start(world);
  await world.advance(1000);
  const stubborn = world.live('/etc/services.d/stubborn/run');
  const polite = world.live('/etc/services.d/polite/run');
  const cmd = world.live('/app/cmd');

  world.deliver('SIGTERM');
  await world.advance(0);
  assert.deepEqual(cmd.signals.map((s) => [s.at, s.signal]), [[1000, 'SIGTERM']]);
  assert.equal(polite.exited, true);
  await world.advance(3999);
  assert.equal(code(), null, 'still waiting for the stubborn service');
  assert.deepEqual(stubborn.signals.map((s) => s.signal), ['SIGTERM', 'SIGCONT']);

  await world.advance(1);
  assert.deepEqual(stubborn.signals.at(-1), { at: 5000, signal: 'SIGKILL', group: false });
  // A plain stop: the exit code is CMD's (killed by SIGTERM: 128 + 15).
  assert.equal(await exit, 143);
  assert.deepEqual(world.sweeps, [{ at: 5000, live: [] }]);
});

test("a service whose on-exit is halt stops the container with its code once its finish is done", async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('job', { onExit: 'halt', finish: '/etc/services.d/job/finish' }), service('web')]);
  const { exit, code } = start(world);
  await world.advance(0);

  await world.advance(2000);
  world.exit(world.live('/etc/services.d/job/run').pid, exited(3));
  await world.advance(0);
  const finish = world.live('/etc/services.d/job/finish');
  assert.equal(world.live('/app/cmd').signals.length, 0, 'nothing stops before the finish is done');

  await world.advance(100);
  world.exit(finish.pid, exited(0));
  await world.advance(0);
  assert.deepEqual(world.runsOf('/app/cmd')[0]!.signals.map((s) => [s.at, s.signal]), [[2100, 'SIGTERM']]);
  assert.equal(world.runsOf('/etc/services.d/job/run').length, 1, 'the halting service is not restarted');
  assert.equal(await exit, 3, "the service's code, not CMD's 143");
  assert.notEqual(code(), null);
  assert.equal(world.logged('shutdown')[0]?.reason, 'halt');
});

test("a finish that writes the exitcode file and runs s6-overlay's halt sets the container's code", async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web', { finish: '/etc/services.d/web/finish' })]);
  const { exit } = start(world);
  await world.advance(1000);
  world.exit(world.live('/etc/services.d/web/run').pid, exited(1));
  await world.advance(0);
  const finish = world.live('/etc/services.d/web/finish');
  // `echo 42 > /run/s6-linux-init-container-results/exitcode; /run/s6/basedir/bin/halt` (`warden halt`: code 0).
  world.writeExitCode(42);
  const reply = await world.control!({ v: 1, cmd: 'halt', code: 0 }, new AbortController().signal);
  assert.equal(reply.ok, true);
  await world.advance(0);
  world.exit(finish.pid, exited(0));
  assert.equal(await exit, 42);
  assert.deepEqual(world.logged('exit-code-file').map((l) => [l.code, l.instead]), [[42, 0]]);
});

test('a change in the service dirs during the shutdown starts nothing', async () => {
  const world = slowWorld();
  const { exit } = start(world);
  await world.advance(0);
  const slow = world.live('/etc/services.d/slow/run');

  world.deliver('SIGTERM');
  await world.advance(1000);
  // A new service, and the slow one edited: a rescan now would start the one and restart the other.
  world.units = overlayTree([service('slow', { timeoutKillMs: 3000, scriptsFingerprint: 'edited' }), service('late')]);
  await world.dirsChanged();
  await world.advance(2000);
  assert.deepEqual(slow.signals.at(-1), { at: 3000, signal: 'SIGKILL', group: false });
  assert.equal(await exit, 143);
  await world.advance(10_000);
  assert.deepEqual(world.runsOf('/etc/services.d/late/run'), [], 'the new service never started');
  assert.equal(world.runsOf('/etc/services.d/slow/run').length, 1, 'the edited service was not started again');
});

test('S6_BEHAVIOUR_IF_STAGE2_FAILS=2: a failing cont-init.d script halts the container with 1 and starts neither services nor CMD', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web')]);
  world.scripts.set('/etc/cont-init.d', ['/etc/cont-init.d/10-broken', '/etc/cont-init.d/20-next']);
  const { exit } = start(world, { stage2Failure: 'stop' });
  await world.advance(0);
  world.exit(world.live('/etc/cont-init.d/10-broken').pid, exited(4));
  await world.advance(0);
  // As s6-overlay's cont-init: every script runs, then the failure counts.
  world.exit(world.live('/etc/cont-init.d/20-next').pid, exited(0));
  assert.equal(await exit, 1);
  assert.equal(world.exitcodeFile?.code, 1);
  assert.deepEqual(world.runsOf('/etc/services.d/web/run'), []);
  assert.deepEqual(world.runsOf('/app/cmd'), []);
  assert.equal(world.logged('stage2-failed').length, 1);
});

test('the same failure under S6_BEHAVIOUR_IF_STAGE2_FAILS=0 goes on to the services and CMD', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web')]);
  world.scripts.set('/etc/cont-init.d', ['/etc/cont-init.d/10-broken']);
  start(world, { stage2Failure: 'continue-silently' });
  await world.advance(0);
  world.exit(world.live('/etc/cont-init.d/10-broken').pid, exited(4));
  await world.advance(0);
  assert.equal(world.runsOf('/etc/services.d/web/run').length, 1);
  assert.equal(world.runsOf('/app/cmd').length, 1);
});

test('S6_CMD_RECEIVE_SIGNALS: SIGTERM goes to CMD alone, and the container stops when CMD exits', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web')]);
  // A CMD that handles SIGTERM: it exits 0 a while after getting it.
  world.reactions.set('/app/cmd', () => null);
  const { exit, code } = start(world, { cmdReceivesSignals: true });
  await world.advance(0);
  const cmd = world.live('/app/cmd');
  const web = world.live('/etc/services.d/web/run');

  await world.advance(1000);
  world.deliver('SIGTERM');
  await world.advance(5000);
  // Diverted by number, as it came.
  assert.deepEqual(cmd.signals.map((s) => [s.at, s.signal]), [[1000, '15']]);
  assert.equal(web.signals.length, 0, 'the services are not stopped while CMD runs');
  assert.equal(code(), null);
  assert.equal(world.logged('shutdown').length, 0);

  world.exit(cmd.pid, exited(0));
  assert.equal(await exit, 0);
  assert.equal(world.logged('shutdown')[0]?.reason, 'command-exited');
  assert.deepEqual(web.signals.map((s) => [s.at, s.signal]), [[6000, 'SIGTERM'], [6000, 'SIGCONT']]);
});

test('without S6_CMD_RECEIVE_SIGNALS the same SIGTERM stops the container, CMD first', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web')]);
  world.reactions.set('/app/cmd', ignoresTerm);
  const { exit } = start(world);
  await world.advance(1000);
  const cmd = world.live('/app/cmd');
  const web = world.live('/etc/services.d/web/run');
  world.deliver('SIGTERM');
  await world.advance(0);
  assert.equal(world.logged('shutdown')[0]?.reason, 'signal');
  assert.deepEqual(cmd.signals.map((s) => [s.at, s.signal]), [[1000, 'SIGTERM']]);
  assert.equal(web.signals.length, 0, 'the services stop once CMD is gone');
  // CMD ignores it: KILLed after the services grace time (3 s), then the services stop.
  await world.advance(3000);
  assert.deepEqual(cmd.signals.at(-1), { at: 4000, signal: 'SIGKILL', group: false });
  assert.deepEqual(web.signals[0], { at: 4000, signal: 'SIGTERM', group: false });
  assert.equal(await exit, 137);
});

test('the first reason to stop decides the exit code; a later one only waits for the same shutdown', async () => {
  const world = slowWorld();
  const { exit } = start(world);
  await world.advance(1000);

  world.deliver('SIGTERM');
  await world.advance(500);
  // SIGPWR alone would power off with 0; a halt request with 9.
  world.deliver('SIGPWR');
  const reply = await world.control!({ v: 1, cmd: 'halt', code: 9 }, new AbortController().signal);
  assert.equal(reply.ok, true);
  await world.advance(3000);
  assert.equal(await exit, 143, "SIGTERM came first: CMD's code");
  assert.deepEqual(world.logged('shutdown').map((l) => l.reason), ['signal']);
  assert.deepEqual(world.logged('already-stopping').map((l) => l.reason), ['halt', 'halt']);
  assert.equal(world.sweeps.length, 1, 'one shutdown');
});

test('forward-signals: a running service that names a signal gets it, a real-time one by number; one that does not, or that is not running, gets nothing', async () => {
  const world = new InitWorld();
  world.units = overlayTree([
    service('asks', { forwardSignals: [10, 40] }),
    service('quiet'),
    service('crashed', { forwardSignals: [10], restartDelay: { minMs: 5000, maxMs: 5000 } }),
  ]);
  // CMD does not take these either: its own default would end it.
  world.reactions.set('/app/cmd', () => null);
  start(world);
  await world.advance(1000);
  const asks = world.live('/etc/services.d/asks/run');
  const quiet = world.live('/etc/services.d/quiet/run');
  world.exit(world.live('/etc/services.d/crashed/run').pid, exited(1));
  await world.advance(10);

  world.deliver('SIGUSR1');
  world.deliver('SIGRTMIN+6');
  await world.advance(0);
  assert.deepEqual(asks.signals.map((s) => [s.at, s.signal]), [[1010, '10'], [1010, '40']]);
  assert.equal(quiet.signals.length, 0);
  assert.equal(world.runsOf('/etc/services.d/crashed/run').length, 1, 'still in its backoff');
  assert.deepEqual(world.logged('signal').map((l) => [l.signal, l.forwardedTo]), [['SIGUSR1', 'cmd,asks'], ['SIGRTMIN+6', 'cmd,asks']]);
});

test("a status's times are the wall clock's, at the transitions in virtual time", async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web')]);
  start(world);
  await world.advance(1500);
  world.exit(world.live('/etc/services.d/web/run').pid, exited(1));
  await world.advance(2500);
  const reply = await world.control!({ v: 1, cmd: 'status', services: ['web'] }, new AbortController().signal);
  assert.ok(reply.ok);
  const [web] = reply.result as { upDownSince: string }[];
  // Restarted at once (restart-delay's minimum is 0): up since the exit, 1.5 s into the test.
  assert.equal(web?.upDownSince, new Date(WALL_ORIGIN + 1500).toISOString());
});

test('the health file follows the services: written once they start, rewritten when one dies, gone once warden stops', async () => {
  const world = new InitWorld();
  world.units = overlayTree([service('web')]);
  const { exit } = start(world);
  await world.advance(0);
  const states = (): string[] =>
    (JSON.parse(world.healthText!) as { services: { name: string; state: string; deaths: number }[] }).services.map((s) => `${s.name} ${s.state}, ${s.deaths} deaths`);
  assert.deepEqual(states(), ['web up, 0 deaths']);

  world.exit(world.live('/etc/services.d/web/run').pid, exited(1));
  await world.advance(0);
  assert.deepEqual(states(), ['web up, 1 deaths'], 'the file shows the death, and the restart at once');

  world.deliver('SIGTERM');
  await world.advance(10_000);
  await exit;
  assert.equal(world.healthText, null, 'no stale file once warden stopped');
});
