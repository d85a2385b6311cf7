/**
 * warden as a real PID 1 (in a new PID namespace via unshare), with real processes: reaping,
 * restarts, backoff, finish scripts, shutdown, exit codes and signal forwarding.
 *
 * Timing is only ever asserted as order or as a generous upper bound: these run on loaded CI
 * machines. How fast warden is belongs to bench/.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CRASH_LOOP_STREAK } from '../../src/core/backoff.js';
import { eventually, Sandbox, sq, untilDrained, whileProgressing, type EventPredicate, type WardenEvent } from './harness.js';

/** A fresh sandbox that is killed and removed after the test, pass or fail. */
async function sandbox(t: TestContext): Promise<Sandbox> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  return box;
}

const is =
  (event: string, service?: string): EventPredicate =>
  (e) =>
    e.event === event && (service === undefined || e.service === service);

/** A number field of an event, failing the test if it is not one. */
function num(e: WardenEvent, field: string): number {
  const value = e[field];
  assert.equal(typeof value, 'number', `${field} of ${JSON.stringify(e)}`);
  return value as number;
}

/** Index of the first event matching `pred`, failing if none. */
function indexOf(events: readonly WardenEvent[], pred: EventPredicate, what: string): number {
  const i = events.findIndex(pred);
  assert.notEqual(i, -1, `no ${what} event`);
  return i;
}

function lastIndexOf(events: readonly WardenEvent[], pred: EventPredicate, what: string): number {
  for (let i = events.length - 1; i >= 0; i--) if (pred(events[i]!)) return i;
  assert.fail(`no ${what} event`);
}

const LONG_RUN = 'exec sleep 1000';

// The fork storm takes as long as the machine needs: the wait fails only if the forking stalls.
test('orphans of a double-forking service are all reaped: no zombie left in the namespace', { timeout: 900_000 }, async (t) => {
  const box = await sandbox(t);
  const done = box.path('forked');
  const count = box.path('count');
  await box.service('orphans', {
    run:
      `i=0; while [ $i -lt 10000 ]; do (true &) ; i=$((i+1)); ` +
      `[ $((i % 100)) -eq 0 ] && echo $i > ${sq(count)}; done; echo done > ${sq(done)}; ${LONG_RUN}`,
  });
  const warden = box.boot();
  await warden.waitForEvent(is('started', 'orphans'), 15_000, 'started orphans');
  await whileProgressing(
    'the service forking its 10 000 orphans',
    async () => ((await box.read(done)) !== null ? true : Number(await box.read(count)) || 0),
    60_000,
  );

  await warden.waitForNoZombies(30_000);
  // Nothing else lingers either: only warden and the service's sleep are left.
  await untilDrained('processes in the namespace', async () => (await warden.processes()).length, 2, 30_000);
  const left = await warden.processes();
  assert.deepEqual(left.map((p) => p.nsPid).includes(1), true, 'warden is PID 1 in its namespace');
  assert.equal(warden.exited, false, 'warden survived the orphan storm');

  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(20_000)).code, 0);
});

test('a service killed with kill -9 is restarted with a new pid', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  await box.service('victim', { run: LONG_RUN });
  const warden = box.boot();
  const first = await warden.waitForEvent(is('started', 'victim'), 15_000, 'first start');

  process.kill(await warden.hostPidOf(num(first, 'pid')), 'SIGKILL');

  const exited = await warden.waitForEvent(is('exited', 'victim'), 10_000, 'exited victim');
  assert.equal(exited.signal, 9);
  const second = await warden.waitForEvent((e) => is('started', 'victim')(e) && e.pid !== first.pid, 10_000, 'restart');
  assert.notEqual(second.pid, first.pid);
  assert.equal(second.restarts, 1);
});

test('a crash loop backs off exponentially from MIN to MAX and is logged once as crash-loop', { timeout: 60_000 }, async (t) => {
  const box = await sandbox(t);
  await box.service('crasher', { run: 'exit 1', files: { 'restart-delay': '100 800\n' } });
  const warden = box.boot();

  // 7 backoffs take about 100+100+200+400+800+800+800 ms of waiting.
  const backoffs = await warden.waitForEvents(is('backoff', 'crasher'), 7, 40_000, 'backoff');
  const delays = backoffs.map((e) => num(e, 'delayMs'));

  assert.equal(delays[0], 100, `the first restart waits MIN: ${delays.join(', ')}`);
  for (let i = 1; i < delays.length; i++) {
    const [prev, cur] = [delays[i - 1]!, delays[i]!];
    assert.ok(cur >= prev && cur <= 2 * prev, `each delay is between the previous one and its double: ${delays.join(', ')}`);
  }
  assert.ok(delays.includes(200) && delays.includes(400), `the delay doubles: ${delays.join(', ')}`);
  assert.ok(Math.max(...delays) === 800, `the delay is capped at MAX: ${delays.join(', ')}`);
  assert.deepEqual(delays.slice(-3), [800, 800, 800], `it stays at MAX: ${delays.join(', ')}`);

  const loops = warden.find(is('crash-loop', 'crasher'));
  assert.equal(loops.length, 1, 'one crash-loop event for the whole loop, not one per death');
  const deathsBefore = warden.events.slice(0, warden.events.indexOf(loops[0]!)).filter(is('exited', 'crasher')).length;
  assert.equal(deathsBefore, CRASH_LOOP_STREAK, `crash-loop is logged at death number ${CRASH_LOOP_STREAK}`);
  assert.equal(warden.find(is('crash-loop-ended')).length, 0);
});

test('finish gets "CODE 0 NAME" when run exits with CODE', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const args = box.path('finish-args');
  await box.service('exits3', { run: 'exit 3', finish: `echo "$1 $2 $3 ($#)" >> ${sq(args)}`, files: { restart: 'never\n' } });
  const warden = box.boot();
  await warden.waitForEvent(is('exited', 'exits3'), 15_000, 'exited');
  const text = await eventually('finish to write its args', () => box.read(args), 10_000);
  assert.equal(text, '3 0 exits3 (3)\n');
});

test('finish gets "256 9" when run is killed by SIGKILL', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const args = box.path('finish-args');
  await box.service('killed', { run: LONG_RUN, finish: `echo "$1 $2" >> ${sq(args)}`, files: { restart: 'never\n' } });
  const warden = box.boot();
  const started = await warden.waitForEvent(is('started', 'killed'), 15_000, 'started');
  process.kill(await warden.hostPidOf(num(started, 'pid')), 'SIGKILL');
  const text = await eventually('finish to write its args', () => box.read(args), 10_000);
  assert.equal(text, '256 9\n');
});

test('finish exiting 125 is a permanent failure: the service is not restarted', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  await box.service('doomed', { run: 'exit 1', finish: 'exit 125' });
  const warden = box.boot();
  await warden.waitForEvent(is('permanent-failure', 'doomed'), 15_000, 'permanent-failure');
  // Without the 125 it would restart at once (restart-delay MIN is 0); give it ample time to.
  await sleep(1500);
  assert.equal(warden.find(is('started', 'doomed')).length, 1, 'started once, never again');
  assert.equal(warden.find(is('backoff', 'doomed')).length, 0);
});

test('a service with a down file is not started at boot; the others are', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const ran = box.path('held-ran');
  await box.service('held', { run: `echo ran > ${sq(ran)}; ${LONG_RUN}`, files: { down: '' } });
  await box.service('normal', { run: LONG_RUN });
  const warden = box.boot();
  await warden.waitForEvent(is('started', 'normal'), 15_000, 'started normal');
  await sleep(1000);
  assert.equal(warden.find(is('started', 'held')).length, 0);
  assert.equal(await box.read(ran), null, "held's run never ran");
});

test('SIGTERM stops services in reverse dependency order, SIGKILLs one that ignores TERM, runs cont-finish.d after, exits 0', { timeout: 60_000 }, async (t) => {
  const box = await sandbox(t);
  const armed = box.path('stubborn-armed');
  const finished = box.path('cont-finish-ran');
  await box.service('db', { run: LONG_RUN });
  await box.service('app', { run: LONG_RUN, files: { dependencies: 'db\n' } });
  await box.service('stubborn', { run: `trap '' TERM; echo armed > ${sq(armed)}; ${LONG_RUN}`, files: { 'timeout-kill': '500\n' } });
  await box.script('cont-finish.d/10-marker', `echo finished > ${sq(finished)}`);
  const warden = box.boot();
  await warden.waitForEvent(is('started', 'app'), 15_000, 'started app');
  await eventually('stubborn to ignore TERM', async () => (await box.read(armed)) !== null, 10_000);

  await warden.signal('SIGTERM');
  const result = await warden.waitForExit(30_000);
  assert.equal(result.code, 0, warden.tail());
  // Every service was down before the final sweep: stubborn went by its own timeout-kill, not
  // by the last resort that kills whatever is left.
  assert.equal(warden.find((e) => e.event === 'exit')[0]?.killed, 0, warden.tail());

  const ev = warden.events;
  const kill = warden.find(is('kill-timeout', 'stubborn'));
  assert.equal(kill.length, 1, 'stubborn was SIGKILLed after its timeout-kill');
  assert.equal(warden.find(is('exited', 'stubborn'))[0]?.signal, 9);
  // app depends on db: app is down before db is asked to stop.
  assert.ok(indexOf(ev, is('exited', 'app'), 'exited app') < indexOf(ev, is('stopping', 'db'), 'stopping db'), warden.tail());
  // cont-finish.d runs only once every service is down.
  const lastExit = lastIndexOf(ev, is('exited'), 'exited');
  assert.ok(indexOf(ev, is('cont-finish-script'), 'cont-finish-script') > lastExit, warden.tail());
  assert.equal(await box.read(finished), 'finished\n');
  assert.equal(warden.find(is('exit'))[0]?.code, 0);
});

test('exit code: CMD exiting 7 makes warden exit 7', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const warden = box.boot({ cmd: ['sh', '-c', 'exit 7'] });
  assert.equal((await warden.waitForExit(20_000)).code, 7);
});

test('exit code: CMD killed by SIGKILL makes warden exit 137', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const warden = box.boot({ cmd: ['sh', '-c', 'kill -9 $$'] });
  assert.equal((await warden.waitForExit(20_000)).code, 137);
});

test('exit code: an on-exit halt service exiting 4 (no CMD) makes warden exit 4', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  await box.service('main', { run: 'sleep 0.2; exit 4', files: { 'on-exit': 'halt\n' } });
  await box.service('side', { run: LONG_RUN });
  const warden = box.boot();
  assert.equal((await warden.waitForExit(20_000)).code, 4, warden.tail());
  assert.equal(warden.find(is('halt', 'main')).length, 1);
});

test('exit code: SIGTERM with no CMD is a requested shutdown, exit 0', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  await box.service('idle', { run: LONG_RUN });
  const warden = box.boot();
  await warden.waitForEvent(is('started', 'idle'), 15_000, 'started idle');
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(20_000)).code, 0);
});

test('exit code: a failing cont-init.d script makes warden exit 111 and starts no service', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const later = box.path('later-ran');
  await box.script('cont-init.d/10-fail', 'exit 3');
  await box.script('cont-init.d/20-later', `echo ran > ${sq(later)}`);
  await box.service('never', { run: LONG_RUN });
  const warden = box.boot();
  assert.equal((await warden.waitForExit(20_000)).code, 111, warden.tail());
  assert.equal(warden.find(is('cont-init-failed')).length, 1);
  assert.equal(warden.find(is('started')).length, 0, 'no service started');
  // As s6-overlay's cont-init: every script runs, and the failure counts once they are done.
  assert.equal(await box.read(later), 'ran\n', 'the scripts after a failing one still run');
});

test('exit code: bad usage (boot --nope) makes warden exit 100', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const warden = box.boot({ argv: ['boot', '--nope'] });
  assert.equal((await warden.waitForExit(20_000)).code, 100, warden.tail());
});

test('USR1, USR2 and WINCH sent to warden are forwarded to CMD', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const got = box.path('got');
  const ready = box.path('cmd-ready');
  const traps = ['USR1', 'USR2', 'WINCH'].map((s) => `trap 'echo ${s} >> ${sq(got)}' ${s}`).join('; ');
  const warden = box.boot({ cmd: ['sh', '-c', `${traps}; echo ready > ${sq(ready)}; while :; do sleep 0.05; done`] });
  await eventually('CMD to set its traps', async () => (await box.read(ready)) !== null, 15_000);

  const received = async (): Promise<string[]> => ((await box.read(got)) ?? '').split('\n').filter((l) => l !== '');
  for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
    await warden.signal(signal);
    const name = signal.slice(3);
    await eventually(`CMD to get ${signal}`, async () => (await received()).includes(name), 10_000);
  }
  assert.deepEqual((await received()).sort(), ['USR1', 'USR2', 'WINCH']);
});

test('broken service dirs are reported with file and line and do not stop the good service', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  await box.service('no-run', { run: null, files: { 'timeout-kill': '500\n' } });
  await box.service('bad-timeout', { run: LONG_RUN, files: { 'timeout-kill': 'soon\n' } });
  await box.service('good', { run: LONG_RUN });
  const warden = box.boot();
  await warden.waitForEvent(is('started', 'good'), 15_000, 'started good');

  const problems = warden.find(is('config-problem'));
  const missingRun = problems.find((p) => p.file === `${box.servicesDir}/no-run/run`);
  assert.ok(missingRun, `a problem names no-run/run: ${JSON.stringify(problems)}`);
  assert.equal(missingRun.line, null);
  const badTimeout = problems.find((p) => p.file === `${box.servicesDir}/bad-timeout/timeout-kill`);
  assert.ok(badTimeout, `a problem names bad-timeout/timeout-kill: ${JSON.stringify(problems)}`);
  assert.equal(badTimeout.line, 1);
  assert.match(String(badTimeout.msg), /timeout-kill:1: .*soon/);
  assert.equal(warden.find((e) => e.event === 'started' && e.service !== 'good').length, 0, 'broken services are not started');
});

test('warden survives kill -9 of all its services at once, 20 times: all restart, no zombie stays', { timeout: 120_000 }, async (t) => {
  const box = await sandbox(t);
  const names = ['one', 'two', 'three'];
  // No exec: the shell's sleep becomes an orphan when the shell is killed, and must be reaped.
  for (const name of names) await box.service(name, { run: 'while :; do sleep 0.1; done', files: { 'restart-delay': '0 50\n' } });
  const warden = box.boot();
  const wardenHost = await warden.hostPid();

  for (let round = 0; round <= 20; round++) {
    const latest = await Promise.all(
      names.map(async (name) => (await warden.waitForEvents(is('started', name), round + 1, 15_000, `start #${round + 1} of ${name}`)).at(-1)!),
    );
    if (round === 20) break;
    const procs = await warden.processes();
    for (const started of latest) {
      const proc = procs.find((p) => p.nsPid === started.pid);
      assert.ok(proc, `${started.service} (ns pid ${started.pid}) is running in round ${round}`);
      process.kill(proc.hostPid, 'SIGKILL');
    }
  }

  assert.equal(warden.exited, false, 'warden is alive');
  assert.ok((await warden.processes()).some((p) => p.hostPid === wardenHost && p.nsPid === 1), 'warden is still PID 1');
  for (const name of names) assert.equal(warden.find(is('started', name)).length, 21, `${name} started 21 times`);
  await warden.waitForNoZombies(15_000);

  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(20_000)).code, 0, warden.tail());
});

test('cont-init.d scripts run in name order, all before the first service starts', { timeout: 30_000 }, async (t) => {
  const box = await sandbox(t);
  const order = box.path('order');
  // Written out of order, so the directory's own order cannot pass for name order.
  for (const name of ['20-b', '30-c', '10-a']) await box.script(`cont-init.d/${name}`, `echo ${name} >> ${sq(order)}`);
  await box.service('svc', { run: `echo service >> ${sq(order)}; ${LONG_RUN}` });
  const warden = box.boot();
  await warden.waitForEvent(is('started', 'svc'), 15_000, 'started svc');
  const lines = await eventually(
    'the service to write its line',
    async () => {
      const text = (await box.read(order)) ?? '';
      return text.includes('service') ? text.trim().split('\n') : false;
    },
    10_000,
  );
  assert.deepEqual(lines, ['10-a', '20-b', '30-c', 'service']);
  const scripts = warden.find(is('cont-init-script')).map((e) => String(e.script).split('/').at(-1));
  assert.deepEqual(scripts, ['10-a', '20-b', '30-c']);
  const ev = warden.events;
  assert.ok(lastIndexOf(ev, is('cont-init-script'), 'cont-init-script') < indexOf(ev, is('started'), 'started'));
});
