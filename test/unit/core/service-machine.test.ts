import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LAUNCH_FAILED_DELAY_MS } from '../../../src/core/backoff.js';
import { boot, initialService, step, type Effect } from '../../../src/core/service-machine.js';
import { ev, logEvents, logged, logOf, makeSpec, quickDeaths, run, started, table, type Timed, type Trace, randomSource } from './harness.js';

const FINISH = '/etc/warden/services.d/svc/finish';
const spawnEffect: Effect = { type: 'spawn' };
const noSpawn = (trace: Trace): void =>
  assert.ok(!trace.steps.slice(1).some((s) => s.effects.some((e) => e.type === 'spawn')), 'no spawn after boot');

table('boot', [
  {
    name: 'a service wanted up spawns at boot',
    events: [],
    state: { kind: 'spawning', since: 0 },
    service: { goal: 'up', restarts: 0, streak: 0 },
    last: [spawnEffect],
  },
  {
    name: 'a service with a down file stays down with no effects',
    spec: { downAtBoot: true },
    events: [],
    state: { kind: 'down', since: 0, reason: 'wanted' },
    service: { goal: 'down' },
    last: [],
  },
  {
    name: 'spawned without notification-fd is up and ready at once',
    events: [[1, ev.spawned(100)]],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: [started(100)],
  },
  {
    name: 'spawned with notification-fd is starting',
    spec: { notificationFd: 3 },
    events: [[1, ev.spawned(100)]],
    state: { kind: 'starting', pid: 100, since: 1, probe: null },
    last: [started(100)],
  },
  {
    name: 'ready moves starting to up and logs how long it took',
    spec: { notificationFd: 3 },
    events: [
      [1, ev.spawned(100)],
      [251, ev.ready],
    ],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 251, probe: null },
    last: [logged('info', 'ready', { pid: 100, afterMs: 250 })],
  },
  {
    name: 'a second ready while up changes nothing',
    spec: { notificationFd: 3 },
    events: [
      [1, ev.spawned(100)],
      [251, ev.ready],
      [300, ev.ready],
    ],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 251, probe: null },
    last: [],
  },
]);

table('crash and restart', [
  {
    name: 'a death after a long run restarts at once, through a timer due now',
    events: [
      [1, ev.spawned(100)],
      [10_001, ev.exited(1)],
    ],
    state: { kind: 'backoff', until: 10_001 },
    service: { restarts: 0, streak: 1, crashLoop: false },
    last: [logged('warn', 'exited', { code: 1, ranMs: 10_000 }), { type: 'set-timer', timer: 'main', at: 10_001 }],
  },
  {
    name: 'the timer due now spawns and counts a restart',
    events: [
      [1, ev.spawned(100)],
      [10_001, ev.exited(1)],
      [10_001, ev.timer],
    ],
    state: { kind: 'spawning', since: 10_001 },
    service: { restarts: 1, streak: 1, crashLoop: false },
    last: [spawnEffect],
  },
  {
    name: 'the first quick death restarts at once (min delay 0), through a timer due now',
    events: [
      [1, ev.spawned(100)],
      [11, ev.exited(1)],
    ],
    state: { kind: 'backoff', until: 11 },
    service: { restarts: 0, streak: 1 },
    last: [logged('warn', 'exited', { code: 1, ranMs: 10 }), { type: 'set-timer', timer: 'main', at: 11 }],
  },
  {
    name: 'the second quick death backs off 100 ms, and the state carries until',
    events: quickDeaths(makeSpec(), 2),
    // deaths at 11 and 22
    state: { kind: 'backoff', until: 122 },
    service: { restarts: 1, streak: 2 },
    last: [logged('warn', 'exited', { code: 1, ranMs: 10 }), logged('info', 'backoff', { delayMs: 100, deaths: 2 }), { type: 'set-timer', timer: 'main', at: 122 }],
  },
  {
    name: 'the backoff timer spawns and counts a restart',
    events: [...quickDeaths(makeSpec(), 2), [122, ev.timer]],
    state: { kind: 'spawning', since: 122 },
    service: { restarts: 2, streak: 2 },
    last: [spawnEffect],
  },
  {
    name: 'a run of exactly restartResetMs counts as long',
    events: [...quickDeaths(makeSpec(), 3), [1000, ev.timer], [1001, ev.spawned(200)], [11_001, ev.exited(1)]],
    state: { kind: 'backoff', until: 11_001 },
    service: { streak: 1 },
    last: [logged('warn', 'exited', { code: 1, ranMs: 10_000 }), { type: 'set-timer', timer: 'main', at: 11_001 }],
  },
  {
    name: 'a run 1 ms short of restartResetMs counts as quick',
    events: [...quickDeaths(makeSpec(), 3), [1000, ev.timer], [1001, ev.spawned(200)], [11_000, ev.exited(1)]],
    state: { kind: 'backoff', until: 11_000 + 400 },
    service: { streak: 4 },
    last: [logged('warn', 'exited', { code: 1, ranMs: 9_999 }), logged('info', 'backoff', { delayMs: 400, deaths: 4 }), { type: 'set-timer', timer: 'main', at: 11_400 }],
  },
]);

describe('backoff schedule', () => {
  /** The wait after each death: set-timer `at` minus the death's time, 0 for an immediate spawn. */
  function delaysOf(trace: Trace): number[] {
    return trace.steps
      .filter((s) => s.event?.type === 'exited')
      .map((s) => {
        const timer = s.effects.find((e) => e.type === 'set-timer');
        if (timer !== undefined) return timer.at - s.at;
        assert.ok(s.effects.some((e) => e.type === 'spawn'), `t=${s.at}: neither a timer nor a spawn`);
        return 0;
      });
  }

  test('quick deaths wait 0, 100, 200, 400 … doubling up to the default max 30000', () => {
    const spec = makeSpec();
    const trace = run(spec, quickDeaths(spec, 13));
    assert.deepEqual(delaysOf(trace), [0, 100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000]);
  });

  test('the set-timer at values are exact, and the cap is the configured max', () => {
    const spec = makeSpec({ restartDelay: { minMs: 0, maxMs: 1000 } });
    const trace = run(spec, quickDeaths(spec, 8, 10));
    const timers = trace.all.flatMap((e) => (e.type === 'set-timer' ? [e.at] : []));
    // spawned at 1; each run 10 ms; death k waits d(k), the next spawned 1 ms after the spawn.
    // deaths: 11 (0) → timer 11, spawned 12, death 22 (100) → timer 122, spawned 123,
    // death 133 (200) → 333, death 344 (400) → 744, death 755 (800) → 1555,
    // death 1566 (1000) → 2566, death 2577 (1000) → 3577, death 3588 (1000) → 4588.
    assert.deepEqual(timers, [11, 122, 333, 744, 1555, 2566, 3577, 4588]);
  });

  test('a configured min > 100 starts the doubling from min', () => {
    const spec = makeSpec({ restartDelay: { minMs: 500, maxMs: 5000 } });
    const trace = run(spec, quickDeaths(spec, 6));
    assert.deepEqual(delaysOf(trace), [500, 1000, 2000, 4000, 5000, 5000]);
  });

  test('a long run resets the schedule to min', () => {
    const spec = makeSpec();
    const events = quickDeaths(spec, 4); // last death waits 400
    const t = (events.at(-1)?.[0] ?? 0) + 400;
    const trace = run(spec, [
      ...events,
      [t, ev.timer],
      [t + 1, ev.spawned(300)],
      [t + 20_001, ev.exited(1)],
      [t + 20_001, ev.timer],
      [t + 20_002, ev.spawned(301)],
      [t + 20_012, ev.exited(1)],
    ]);
    assert.deepEqual(delaysOf(trace), [0, 100, 200, 400, 0, 100]);
  });
});

describe('crash loop', () => {
  test('logged once, at the 5th quick death, not at the 6th or 7th', () => {
    const spec = makeSpec();
    const trace = run(spec, quickDeaths(spec, 7));
    const deaths = trace.steps.filter((s) => s.event?.type === 'exited');
    const withLoop = deaths.map((s) => logEvents(s.effects).includes('crash-loop'));
    assert.deepEqual(withLoop, [false, false, false, false, true, false, false]);
    assert.deepEqual(logOf(deaths[4]!.effects, 'crash-loop'), logged('error', 'crash-loop', { deaths: 5, maxDelayMs: 30_000 }));
    assert.equal(trace.service.crashLoop, true);
    assert.equal(trace.service.streak, 7);
  });

  test('ended by a long run, which restarts at once', () => {
    const spec = makeSpec();
    const events = quickDeaths(spec, 5);
    const t = (events.at(-1)?.[0] ?? 0) + 800;
    const trace = run(spec, [...events, [t, ev.timer], [t + 1, ev.spawned(300)], [t + 10_001, ev.exited(1)]]);
    assert.deepEqual(trace.last, [
      logged('warn', 'exited', { code: 1, ranMs: 10_000 }),
      logged('info', 'crash-loop-ended', { ranMs: 10_000 }),
      { type: 'set-timer', timer: 'main', at: t + 10_001 },
    ]);
    assert.equal(trace.service.crashLoop, false);
    assert.equal(trace.service.streak, 1);
    assert.equal(logEvents(trace.all).filter((e) => e === 'crash-loop-ended').length, 1);
  });

  test('a long run outside a crash loop logs no crash-loop-ended', () => {
    const trace = run(makeSpec(), [
      [1, ev.spawned(100)],
      [20_000, ev.exited(1)],
    ]);
    assert.ok(!logEvents(trace.all).includes('crash-loop-ended'));
  });

  test('deaths are capped at maxDeathTally, newest kept', () => {
    const spec = makeSpec({ maxDeathTally: 3 });
    const events = quickDeaths(spec, 6);
    const trace = run(spec, events);
    const deathTimes = events.filter(([, e]) => e.type === 'exited').map(([at]) => at);
    assert.equal(trace.service.deaths.length, 3);
    assert.deepEqual(
      trace.service.deaths.map((d) => d.at),
      deathTimes.slice(-3),
    );
    assert.deepEqual(trace.service.deaths.at(-1), { at: deathTimes.at(-1), status: { kind: 'exited', code: 1 }, ranMs: 10 });
  });

  test('the backoff of a capped tally still counts the whole streak', () => {
    const spec = makeSpec({ maxDeathTally: 1 });
    const trace = run(spec, quickDeaths(spec, 5));
    assert.equal(trace.service.deaths.length, 1);
    assert.equal(trace.service.streak, 5);
    assert.deepEqual(trace.state, { kind: 'backoff', until: (trace.steps.at(-1)?.at ?? 0) + 800 });
  });
});

table('restart policies and on-exit', [
  {
    name: 'never: down after exit 0',
    spec: { restart: 'never' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(0)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    service: { goal: 'down', restarts: 0 },
    last: [logged('info', 'exited', { code: 0, ranMs: 49 })],
  },
  {
    name: 'never: down after exit 1',
    spec: { restart: 'never' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(1)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    service: { goal: 'down', restarts: 0 },
    last: [logged('warn', 'exited', { code: 1, ranMs: 49 })],
  },
  {
    name: 'on-failure: down after exit 0',
    spec: { restart: 'on-failure' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(0)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    service: { goal: 'down' },
    last: [logged('info', 'exited', { code: 0, ranMs: 49 })],
  },
  {
    name: 'on-failure: restarts after exit 1',
    spec: { restart: 'on-failure' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(1)],
    ],
    state: { kind: 'backoff', until: 50 },
    service: { goal: 'up', restarts: 0 },
    last: [logged('warn', 'exited', { code: 1, ranMs: 49 }), { type: 'set-timer', timer: 'main', at: 50 }],
  },
  {
    name: 'on-failure: restarts after a death by signal',
    spec: { restart: 'on-failure' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.killed(15)],
    ],
    state: { kind: 'backoff', until: 50 },
    service: { restarts: 0 },
    last: [logged('warn', 'exited', { signal: 15, ranMs: 49 }), { type: 'set-timer', timer: 'main', at: 50 }],
  },
  {
    name: 'always: restarts after exit 0',
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(0)],
    ],
    state: { kind: 'backoff', until: 50 },
    service: { restarts: 0 },
    last: [logged('info', 'exited', { code: 0, ranMs: 49 }), { type: 'set-timer', timer: 'main', at: 50 }],
  },
  {
    name: 'on-exit halt: exit 3 halts with 3 and goes down',
    spec: { onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(3)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    service: { goal: 'down', restarts: 0 },
    last: [logged('warn', 'exited', { code: 3, ranMs: 49 }), logged('warn', 'halt', { code: 3 }), { type: 'halt', code: 3 }],
  },
  {
    name: 'on-exit halt: killed by signal 9 halts with 137',
    spec: { onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.killed(9)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    last: [logged('warn', 'exited', { signal: 9, ranMs: 49 }), logged('warn', 'halt', { code: 137 }), { type: 'halt', code: 137 }],
  },
  {
    name: 'on-exit halt: exit 0 halts with 0',
    spec: { onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.exited(0)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    last: [logged('info', 'exited', { code: 0, ranMs: 49 }), logged('warn', 'halt', { code: 0 }), { type: 'halt', code: 0 }],
  },
  {
    name: 'on-exit halt: a once run that ends by itself halts (it was not asked to stop)',
    spec: { onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [10, ev.once],
      [50, ev.exited(6)],
    ],
    state: { kind: 'down', since: 50, reason: 'exited' },
    last: [logged('warn', 'exited', { code: 6, ranMs: 49 }), logged('warn', 'halt', { code: 6 }), { type: 'halt', code: 6 }],
  },
  {
    name: 'on-exit halt: a requested stop does not halt',
    spec: { onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [60, ev.exited(0)],
    ],
    state: { kind: 'down', since: 60, reason: 'wanted' },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('info', 'exited', { code: 0, ranMs: 59 })],
  },
]);

table('finish', [
  {
    name: 'exit 1 runs finish with 1 0 and arms the finish timer',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
    ],
    state: { kind: 'finishing', finisher: { kind: 'launching' }, status: { kind: 'exited', code: 1 }, requested: false, killed: false, launchFailed: false },
    last: [logged('warn', 'exited', { code: 1, ranMs: 100 }), { type: 'run-finish', args: ['1', '0'] }, { type: 'set-timer', timer: 'main', at: 5101 }],
  },
  {
    name: 'SIGKILL death runs finish with 256 9',
    spec: { finish: FINISH, timeoutFinishMs: 700 },
    events: [
      [1, ev.spawned(100)],
      [101, ev.killed(9)],
    ],
    state: { kind: 'finishing', finisher: { kind: 'launching' }, status: { kind: 'killed', signal: 9 }, requested: false, killed: false, launchFailed: false },
    last: [logged('warn', 'exited', { signal: 9, ranMs: 100 }), { type: 'run-finish', args: ['256', '9'] }, { type: 'set-timer', timer: 'main', at: 801 }],
  },
  {
    name: 'timeoutFinishMs 0 arms no finish timer',
    spec: { finish: FINISH, timeoutFinishMs: 0 },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
    ],
    state: { kind: 'finishing', finisher: { kind: 'launching' }, status: { kind: 'exited', code: 1 }, requested: false, killed: false, launchFailed: false },
    last: [logged('warn', 'exited', { code: 1, ranMs: 100 }), { type: 'run-finish', args: ['1', '0'] }, { type: 'clear-timer', timer: 'main' }],
  },
  {
    name: 'finish exiting 125 is a permanent failure: down, no restart',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
      [150, ev.finishExited(125)],
    ],
    state: { kind: 'down', since: 150, reason: 'permanent-failure' },
    service: { goal: 'down', restarts: 0 },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('error', 'permanent-failure', { reason: 'finish exited 125' })],
    check: noSpawn,
  },
  {
    name: 'finish timeout kills finish, once',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
      [101, ev.finishStarted(200)],
      [5101, ev.timer],
    ],
    state: { kind: 'finishing', finisher: { kind: 'running', pid: 200 }, status: { kind: 'exited', code: 1 }, requested: false, killed: true, launchFailed: false },
    last: [logged('warn', 'finish-timeout', { afterMs: 5000 }), { type: 'signal', pid: 200, signal: 'SIGKILL' }],
  },
  {
    name: 'a finish timeout before its launch reported: the finish is killed when its pid comes',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
      [5101, ev.timer],
      [5101, ev.finishStarted(200)],
    ],
    state: { kind: 'finishing', finisher: { kind: 'running', pid: 200 }, status: { kind: 'exited', code: 1 }, requested: false, killed: true, launchFailed: false },
    last: [{ type: 'signal', pid: 200, signal: 'SIGKILL' }],
  },
  {
    name: 'a second finish timer does nothing',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
      [101, ev.finishStarted(200)],
      [5101, ev.timer],
      [6000, ev.timer],
    ],
    state: { kind: 'finishing', finisher: { kind: 'running', pid: 200 }, status: { kind: 'exited', code: 1 }, requested: false, killed: true, launchFailed: false },
    last: [],
  },
  {
    name: 'the killed finish exiting then restarts',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
      [5101, ev.timer],
      [5102, ev.finishKilled(9)],
    ],
    state: { kind: 'backoff', until: 5102 },
    service: { restarts: 0 },
    last: [{ type: 'clear-timer', timer: 'main' }, { type: 'set-timer', timer: 'main', at: 5102 }],
  },
  {
    name: 'finish exiting 0 then restarts (first quick death: at once)',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(1)],
      [120, ev.finishExited(0)],
    ],
    state: { kind: 'backoff', until: 120 },
    service: { restarts: 0, streak: 1 },
    last: [{ type: 'clear-timer', timer: 'main' }, { type: 'set-timer', timer: 'main', at: 120 }],
  },
  {
    name: 'finish then restart policy never: down',
    spec: { finish: FINISH, restart: 'never' },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(0)],
      [120, ev.finishExited(0)],
    ],
    state: { kind: 'down', since: 120, reason: 'exited' },
    service: { goal: 'down' },
    last: [{ type: 'clear-timer', timer: 'main' }],
  },
  {
    name: 'finish then on-exit halt: halts with the service code, not finish’s',
    spec: { finish: FINISH, onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(4)],
      [120, ev.finishExited(0)],
    ],
    state: { kind: 'down', since: 120, reason: 'exited' },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('warn', 'halt', { code: 4 }), { type: 'halt', code: 4 }],
  },
  {
    name: 'finish exiting 125 with on-exit halt: a permanent failure that still halts, with the service code',
    spec: { finish: FINISH, onExit: 'halt' },
    events: [
      [1, ev.spawned(100)],
      [101, ev.exited(4)],
      [120, ev.finishExited(125)],
    ],
    state: { kind: 'down', since: 120, reason: 'permanent-failure' },
    last: [
      { type: 'clear-timer', timer: 'main' },
      logged('error', 'permanent-failure', { reason: 'finish exited 125' }),
      logged('warn', 'halt', { code: 4 }),
      { type: 'halt', code: 4 },
    ],
    check: noSpawn,
  },
  {
    name: 'a finish shorter than the backoff delay leaves the rest of the delay',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [11, ev.exited(1)],
      [12, ev.finishExited(0)],
      [12, ev.timer],
      [13, ev.spawned(101)],
      [23, ev.exited(1)],
      [73, ev.finishExited(0)],
    ],
    // second quick death at 23 waits 100 from the death, not from finish
    state: { kind: 'backoff', until: 123 },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('info', 'backoff', { delayMs: 50, deaths: 2 }), { type: 'set-timer', timer: 'main', at: 123 }],
  },
  {
    name: 'a finish longer than the backoff delay restarts at once',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [11, ev.exited(1)],
      [12, ev.finishExited(0)],
      [12, ev.timer],
      [13, ev.spawned(101)],
      [23, ev.exited(1)],
      [300, ev.finishExited(0)],
    ],
    state: { kind: 'backoff', until: 300 },
    service: { restarts: 1 },
    last: [{ type: 'clear-timer', timer: 'main' }, { type: 'set-timer', timer: 'main', at: 300 }],
  },
  {
    name: 'a requested stop runs finish, then stays down',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [60, ev.killed(15)],
      [70, ev.finishExited(0)],
    ],
    state: { kind: 'down', since: 70, reason: 'wanted' },
    service: { goal: 'down', restarts: 0 },
    last: [{ type: 'clear-timer', timer: 'main' }],
    check: (trace) => {
      // The finish timer replaces the kill timer: no separate clear-timer before it.
      assert.deepEqual(trace.steps[3]!.effects, [
        logged('info', 'exited', { signal: 15, ranMs: 59 }),
        { type: 'run-finish', args: ['256', '15'] },
        { type: 'set-timer', timer: 'main', at: 5060 },
      ]);
      assert.equal(trace.steps[3]!.kind, 'finishing');
    },
  },
]);

table('stop', [
  {
    name: 'down while up sends SIGTERM then SIGCONT and arms the kill timer',
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'down' },
    last: [
      logged('info', 'stopping', { pid: 100, signal: 'SIGTERM' }),
      { type: 'signal', pid: 100, signal: 'SIGTERM' },
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
      { type: 'set-timer', timer: 'main', at: 3050 },
    ],
  },
  {
    name: 'the kill timer sends SIGKILL',
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [3050, ev.timer],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: true },
    last: [logged('warn', 'kill-timeout', { pid: 100, afterMs: 3000 }), { type: 'signal', pid: 100, signal: 'SIGKILL' }],
  },
  {
    name: 'a second kill timer does nothing',
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [3050, ev.timer],
      [4000, ev.timer],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: true },
    last: [],
    check: (trace) =>
      assert.equal(trace.all.filter((e) => e.type === 'signal' && e.signal === 'SIGKILL').length, 1, 'one SIGKILL'),
  },
  {
    name: 'exit while stopping: down, wanted, timer cleared, no restart',
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [60, ev.killed(15)],
    ],
    state: { kind: 'down', since: 60, reason: 'wanted' },
    service: { goal: 'down', restarts: 0, streak: 0 },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('info', 'exited', { signal: 15, ranMs: 59 })],
    check: noSpawn,
  },
  {
    name: 'exit after SIGKILL: down, wanted',
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [3050, ev.timer],
      [3051, ev.killed(9)],
    ],
    state: { kind: 'down', since: 3051, reason: 'wanted' },
    service: { streak: 0 },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('info', 'exited', { signal: 9, ranMs: 3050 })],
    check: noSpawn,
  },
  {
    name: 'a custom down signal SIGINT is used',
    spec: { downSignal: 'SIGINT' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [
      logged('info', 'stopping', { pid: 100, signal: 'SIGINT' }),
      { type: 'signal', pid: 100, signal: 'SIGINT' },
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
      { type: 'set-timer', timer: 'main', at: 3050 },
    ],
  },
  {
    name: 'timeoutKillMs 0 arms no kill timer',
    spec: { timeoutKillMs: 0 },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [
      logged('info', 'stopping', { pid: 100, signal: 'SIGTERM' }),
      { type: 'signal', pid: 100, signal: 'SIGTERM' },
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
    ],
  },
  {
    name: 'down signal SIGKILL: no SIGCONT, no kill timer',
    spec: { downSignal: 'SIGKILL' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [logged('info', 'stopping', { pid: 100, signal: 'SIGKILL' }), { type: 'signal', pid: 100, signal: 'SIGKILL' }],
  },
  {
    name: 'down signal SIGCONT is sent once, with the kill timer',
    spec: { downSignal: 'SIGCONT' },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [
      logged('info', 'stopping', { pid: 100, signal: 'SIGCONT' }),
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
      { type: 'set-timer', timer: 'main', at: 3050 },
    ],
  },
  {
    name: 'down while starting stops it',
    spec: { notificationFd: 3 },
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'down' },
    last: [
      logged('info', 'stopping', { pid: 100, signal: 'SIGTERM' }),
      { type: 'signal', pid: 100, signal: 'SIGTERM' },
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
      { type: 'set-timer', timer: 'main', at: 3050 },
    ],
  },
  {
    name: 'down while spawning: stopped as soon as it is spawned',
    events: [
      [0, ev.down],
      [1, ev.spawned(100)],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'down' },
    last: [
      started(100),
      logged('info', 'stopping', { pid: 100, signal: 'SIGTERM' }),
      { type: 'signal', pid: 100, signal: 'SIGTERM' },
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
      { type: 'set-timer', timer: 'main', at: 3001 },
    ],
  },
  {
    name: 'up while stopping: respawns when it exits',
    events: [
      [1, ev.spawned(100)],
      [50, ev.down],
      [55, ev.up],
      [60, ev.exited(0)],
    ],
    state: { kind: 'spawning', since: 60 },
    service: { goal: 'up', restarts: 1, streak: 0 },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('info', 'exited', { code: 0, ranMs: 59 }), spawnEffect],
  },
  {
    name: 'restart while up stops with the down signal',
    events: [
      [1, ev.spawned(100)],
      [50, ev.restart],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'up' },
    last: [
      logged('info', 'stopping', { pid: 100, signal: 'SIGTERM' }),
      { type: 'signal', pid: 100, signal: 'SIGTERM' },
      { type: 'signal', pid: 100, signal: 'SIGCONT' },
      { type: 'set-timer', timer: 'main', at: 3050 },
    ],
  },
  {
    name: 'restart: respawns at once on exit, the quick-death streak unchanged',
    events: [
      ...quickDeaths(makeSpec(), 2), // deaths at 11, 22; streak 2; backoff until 122
      [122, ev.timer],
      [123, ev.spawned(102)],
      [130, ev.restart],
      [135, ev.killed(15)],
    ],
    state: { kind: 'spawning', since: 135 },
    service: { goal: 'up', restarts: 3, streak: 2, crashLoop: false },
    last: [{ type: 'clear-timer', timer: 'main' }, logged('info', 'exited', { signal: 15, ranMs: 12 }), spawnEffect],
  },
  {
    name: 'restart does not count toward a crash loop',
    events: [
      [1, ev.spawned(100)],
      ...[0, 1, 2, 3, 4, 5].flatMap((i): Timed[] => [
        [10 + i * 10, ev.restart],
        [11 + i * 10, ev.killed(15)],
        [12 + i * 10, ev.spawned(101 + i)],
      ]),
    ],
    state: { kind: 'up', pid: 106, since: 62, readyAt: 62, probe: null },
    service: { restarts: 6, streak: 0, crashLoop: false },
    last: [started(106, 6)],
  },
]);

table('once', [
  {
    name: 'once from down runs it, and its exit leaves it down',
    spec: { downAtBoot: true },
    events: [
      [10, ev.once],
      [11, ev.spawned(100)],
      [20, ev.exited(0)],
    ],
    state: { kind: 'down', since: 20, reason: 'exited' },
    service: { goal: 'down', restarts: 0 },
    last: [logged('info', 'exited', { code: 0, ranMs: 9 })],
    check: (trace) => assert.deepEqual(trace.steps[1]!.effects, [spawnEffect]),
  },
  {
    name: 'once: a failure is not restarted either',
    spec: { downAtBoot: true },
    events: [
      [10, ev.once],
      [11, ev.spawned(100)],
      [20, ev.exited(1)],
    ],
    state: { kind: 'down', since: 20, reason: 'exited' },
    service: { goal: 'down' },
    last: [logged('warn', 'exited', { code: 1, ranMs: 9 })],
  },
  {
    name: 'once while up: the next exit is not restarted',
    events: [
      [1, ev.spawned(100)],
      [10, ev.once],
      [20, ev.exited(1)],
    ],
    state: { kind: 'down', since: 20, reason: 'exited' },
    service: { goal: 'down' },
    last: [logged('warn', 'exited', { code: 1, ranMs: 19 })],
    check: noSpawn,
  },
]);

table('spawn failures', [
  {
    name: 'a spawn failure waits LAUNCH_FAILED_DELAY_MS even with restart-delay 0 0',
    spec: { restartDelay: { minMs: 0, maxMs: 0 } },
    events: [[1, ev.spawnFailed('ENOENT')]],
    state: { kind: 'backoff', until: 1 + LAUNCH_FAILED_DELAY_MS },
    service: { restarts: 0, streak: 1 },
    last: [
      logged('error', 'spawn-failed', { error: 'ENOENT' }),
      logged('warn', 'exited', { code: 111, ranMs: 0 }),
      logged('info', 'backoff', { delayMs: LAUNCH_FAILED_DELAY_MS, deaths: 1 }),
      { type: 'set-timer', timer: 'main', at: 1 + LAUNCH_FAILED_DELAY_MS },
    ],
  },
  {
    name: 'restart-reset 0 (every run counts as long) still waits after a spawn failure',
    spec: { restartDelay: { minMs: 0, maxMs: 0 }, restartResetMs: 0 },
    events: [
      [1, ev.spawnFailed('ENOENT')],
      [1001, ev.timer],
      [1001, ev.spawnFailed('ENOENT')],
    ],
    state: { kind: 'backoff', until: 1001 + LAUNCH_FAILED_DELAY_MS },
    service: { restarts: 1, streak: 1 },
    last: [
      logged('error', 'spawn-failed', { error: 'ENOENT' }),
      logged('warn', 'exited', { code: 111, ranMs: 0 }),
      logged('info', 'backoff', { delayMs: LAUNCH_FAILED_DELAY_MS, deaths: 1 }),
      { type: 'set-timer', timer: 'main', at: 1001 + LAUNCH_FAILED_DELAY_MS },
    ],
  },
  {
    name: 'a spawn failure with a finish waits the same after the finish',
    spec: { finish: FINISH, restartDelay: { minMs: 0, maxMs: 0 } },
    events: [
      [1, ev.spawnFailed('ENOENT')],
      [5, ev.finishExited(0)],
    ],
    state: { kind: 'backoff', until: 5 + LAUNCH_FAILED_DELAY_MS },
    last: [
      { type: 'clear-timer', timer: 'main' },
      logged('info', 'backoff', { delayMs: LAUNCH_FAILED_DELAY_MS, deaths: 1 }),
      { type: 'set-timer', timer: 'main', at: 5 + LAUNCH_FAILED_DELAY_MS },
    ],
  },
  {
    name: 'five spawn failures open a crash loop; the backoff takes over once it is longer',
    events: [
      [1, ev.spawnFailed('ENOENT')],
      [1001, ev.timer],
      [1001, ev.spawnFailed('ENOENT')],
      [2001, ev.timer],
      [2001, ev.spawnFailed('ENOENT')],
      [3001, ev.timer],
      [3001, ev.spawnFailed('ENOENT')],
      [4001, ev.timer],
      [4001, ev.spawnFailed('ENOENT')],
      [5001, ev.timer],
      [5001, ev.spawnFailed('ENOENT')],
    ],
    state: { kind: 'backoff', until: 5001 + 1600 },
    service: { streak: 6, crashLoop: true },
    last: [
      logged('error', 'spawn-failed', { error: 'ENOENT' }),
      logged('warn', 'exited', { code: 111, ranMs: 0 }),
      logged('info', 'backoff', { delayMs: 1600, deaths: 6 }),
      { type: 'set-timer', timer: 'main', at: 5001 + 1600 },
    ],
    check: (trace) => assert.equal(logEvents(trace.all).filter((e) => e === 'crash-loop').length, 1),
  },
]);

table('backoff commands', [
  {
    name: 'down during backoff: down, timer cleared',
    events: [...quickDeaths(makeSpec(), 2), [50, ev.down]],
    state: { kind: 'down', since: 50, reason: 'wanted' },
    service: { goal: 'down' },
    last: [{ type: 'clear-timer', timer: 'main' }],
  },
  {
    name: 'restart during backoff: spawns now, timer cleared',
    events: [...quickDeaths(makeSpec(), 2), [50, ev.restart]],
    state: { kind: 'spawning', since: 50 },
    service: { goal: 'up', restarts: 2 },
    last: [{ type: 'clear-timer', timer: 'main' }, spawnEffect],
  },
  {
    name: 'up during backoff changes nothing',
    events: [...quickDeaths(makeSpec(), 2), [50, ev.up]],
    state: { kind: 'backoff', until: 122 },
    service: { goal: 'up' },
    last: [],
  },
  {
    name: 'once during backoff: the next run is the last',
    events: [...quickDeaths(makeSpec(), 2), [50, ev.once], [122, ev.timer], [123, ev.spawned(200)], [130, ev.exited(1)]],
    state: { kind: 'down', since: 130, reason: 'exited' },
    service: { goal: 'down' },
    last: [logged('warn', 'exited', { code: 1, ranMs: 7 })],
  },
  {
    name: 'up after down resets the streak and the crash loop',
    events: [...quickDeaths(makeSpec(), 5), [2000, ev.down], [2100, ev.up]],
    state: { kind: 'spawning', since: 2100 },
    service: { goal: 'up', streak: 0, crashLoop: false },
    last: [spawnEffect],
  },
]);

table('commands that mean nothing in a state', [
  {
    name: 'signal while down: logged as not running, not illegal',
    spec: { downAtBoot: true },
    events: [[5, ev.signal('SIGHUP')]],
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: [logged('info', 'not-running', { command: 'signal' })],
  },
  {
    name: 'restart while down: logged as not running, not illegal',
    spec: { downAtBoot: true },
    events: [[5, ev.restart]],
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: [logged('info', 'not-running', { command: 'restart' })],
  },
  {
    name: 'down while down: nothing',
    spec: { downAtBoot: true },
    events: [[5, ev.down]],
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: [],
  },
  {
    name: 'signal while spawning: nothing',
    events: [[0, ev.signal('SIGHUP')]],
    state: { kind: 'spawning', since: 0 },
    last: [],
  },
  {
    name: 'signal while up goes to the pid',
    events: [
      [1, ev.spawned(100)],
      [5, ev.signal('SIGHUP')],
    ],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: [{ type: 'signal', pid: 100, signal: 'SIGHUP' }],
  },
  {
    name: 'signal while stopping goes to the pid',
    events: [
      [1, ev.spawned(100)],
      [5, ev.down],
      [6, ev.signal('SIGUSR1')],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [{ type: 'signal', pid: 100, signal: 'SIGUSR1' }],
  },
  {
    name: 'signal or restart while finishing: nothing',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [5, ev.exited(1)],
      [6, ev.signal('SIGHUP')],
      [7, ev.restart],
    ],
    state: { kind: 'finishing', finisher: { kind: 'launching' }, status: { kind: 'exited', code: 1 }, requested: false, killed: false, launchFailed: false },
    last: [],
  },
  {
    name: 'signal while backing off: nothing',
    events: [...quickDeaths(makeSpec(), 2), [50, ev.signal('SIGHUP')]],
    state: { kind: 'backoff', until: 122 },
    last: [],
  },
]);

const illegalIn = (state: string, received: string): Effect[] => [logged('warn', 'illegal-event', { state, received })];

table('kill: a retirement past its stop budget', [
  {
    name: 'stopping: its process group is SIGKILLed, and the kill timer will not kill again',
    spec: { timeoutKillMs: 0 },
    events: [
      [1, ev.spawned(100)],
      [10, ev.down],
      [3010, ev.kill],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: true },
    last: [{ type: 'kill-group', pid: 100 }],
  },
  {
    name: 'up: its process group is SIGKILLed; the death that follows is recorded as usual',
    events: [
      [1, ev.spawned(100)],
      [10, ev.kill],
    ],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: [{ type: 'kill-group', pid: 100 }],
  },
  {
    name: 'finishing: the finish script\'s process group is SIGKILLed',
    spec: { finish: FINISH, timeoutFinishMs: 0 },
    events: [
      [1, ev.spawned(100)],
      [10, ev.down],
      [20, ev.exited(0)],
      [20, ev.finishStarted(200)],
      [5000, ev.kill],
    ],
    state: { kind: 'finishing', finisher: { kind: 'running', pid: 200 }, status: { kind: 'exited', code: 0 }, requested: true, killed: true, launchFailed: false },
    last: [{ type: 'kill-group', pid: 200 }],
  },
  {
    name: 'finishing, its launch not reported yet: the finish is SIGKILLed when its pid comes',
    spec: { finish: FINISH, timeoutFinishMs: 0 },
    events: [
      [1, ev.spawned(100)],
      [10, ev.down],
      [20, ev.exited(0)],
      [20, ev.kill],
      [20, ev.finishStarted(200)],
    ],
    state: { kind: 'finishing', finisher: { kind: 'running', pid: 200 }, status: { kind: 'exited', code: 0 }, requested: true, killed: true, launchFailed: false },
    last: [{ type: 'signal', pid: 200, signal: 'SIGKILL' }],
  },
  {
    name: 'down: nothing runs, nothing to kill',
    spec: { downAtBoot: true },
    events: [[10, ev.kill]],
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: [],
  },
  {
    name: 'backoff: nothing runs, nothing to kill',
    spec: { restartDelay: { minMs: 1000, maxMs: 1000 } },
    events: [
      [1, ev.spawned(100)],
      [10, ev.exited(1)],
      [20, ev.kill],
    ],
    state: { kind: 'backoff', until: 1010 },
    last: [],
  },
]);

table('impossible events are illegal-event warnings', [
  {
    name: 'exited while down',
    spec: { downAtBoot: true },
    events: [[5, ev.exited(0)]],
    allowIllegal: true,
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: illegalIn('down', 'exited'),
  },
  {
    name: 'ready while down',
    spec: { downAtBoot: true },
    events: [[5, ev.ready]],
    allowIllegal: true,
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: illegalIn('down', 'ready'),
  },
  {
    name: 'timer while down',
    spec: { downAtBoot: true },
    events: [[5, ev.timer]],
    allowIllegal: true,
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: illegalIn('down', 'timer'),
  },
  {
    name: 'spawned while down',
    spec: { downAtBoot: true },
    events: [[5, ev.spawned(100)]],
    allowIllegal: true,
    state: { kind: 'down', since: 0, reason: 'wanted' },
    last: illegalIn('down', 'spawned'),
  },
  {
    name: 'exited while spawning',
    events: [[1, ev.exited(0)]],
    allowIllegal: true,
    state: { kind: 'spawning', since: 0 },
    last: illegalIn('spawning', 'exited'),
  },
  {
    name: 'timer while up',
    events: [
      [1, ev.spawned(100)],
      [5, ev.timer],
    ],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: illegalIn('up', 'timer'),
  },
  {
    name: 'finish-exited while up',
    events: [
      [1, ev.spawned(100)],
      [5, ev.finishExited(0)],
    ],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: illegalIn('up', 'finish-exited'),
  },
  {
    name: 'exited while finishing',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [5, ev.exited(1)],
      [6, ev.exited(1)],
    ],
    allowIllegal: true,
    state: { kind: 'finishing', finisher: { kind: 'launching' }, status: { kind: 'exited', code: 1 }, requested: false, killed: false, launchFailed: false },
    last: illegalIn('finishing', 'exited'),
  },
  {
    name: 'a second finish-started while the finish runs',
    spec: { finish: FINISH },
    events: [
      [1, ev.spawned(100)],
      [5, ev.exited(1)],
      [5, ev.finishStarted(200)],
      [6, ev.finishStarted(201)],
    ],
    allowIllegal: true,
    state: { kind: 'finishing', finisher: { kind: 'running', pid: 200 }, status: { kind: 'exited', code: 1 }, requested: false, killed: false, launchFailed: false },
    last: illegalIn('finishing', 'finish-started'),
  },
  {
    name: 'finish-started while up',
    events: [
      [1, ev.spawned(100)],
      [5, ev.finishStarted(200)],
    ],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: illegalIn('up', 'finish-started'),
  },
  {
    name: 'spawned while backing off',
    events: [...quickDeaths(makeSpec(), 2), [50, ev.spawned(300)]],
    allowIllegal: true,
    state: { kind: 'backoff', until: 122 },
    last: illegalIn('backoff', 'spawned'),
  },
]);

describe('harness', () => {
  test('run fails on an unexpected illegal-event', () => {
    assert.throws(() => run(makeSpec({ downAtBoot: true }), [[5, ev.exited(0)]]), /illegal event at t=5/);
  });
});

describe('determinism and purity', () => {
  const spec = makeSpec({ finish: FINISH, notificationFd: 3 });
  const events: Timed[] = [
    [1, ev.spawned(100)],
    [20, ev.ready],
    [30, ev.exited(1)],
    [40, ev.finishExited(0)],
    [40, ev.timer],
    [41, ev.spawned(101)],
    [45, ev.exited(2)],
    [46, ev.finishExited(0)],
    [146, ev.timer],
    [147, ev.spawned(102)],
    [200, ev.restart],
    [3200, ev.timer],
    [3201, ev.killed(9)],
    [3300, ev.finishExited(0)],
    [3301, ev.spawned(103)],
    [3400, ev.down],
    [3450, ev.exited(0)],
    [3460, ev.finishExited(0)],
  ];

  test('the same events give deep-equal results twice', () => {
    assert.deepEqual(run(spec, events), run(spec, events));
  });

  test('step never mutates its input (every service deep-frozen before each step)', () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
      }
      return value;
    };
    const expected = run(spec, events);
    let service = deepFreeze(boot(initialService(spec, 0), 0).service);
    for (const [i, [at, event]] of events.entries()) {
      const next = step(service, event, at);
      assert.deepEqual(next.effects, expected.steps[i + 1]!.effects);
      service = deepFreeze(next.service);
    }
    assert.deepEqual(service, expected.service);
  });
});

describe('random walks', () => {

  test('commands and the events the state can receive keep every invariant', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { rand, pick } = randomSource(seed);
      const spec = makeSpec({
        finish: rand() < 0.5 ? FINISH : null,
        notificationFd: rand() < 0.5 ? 3 : null,
        restart: pick(['always', 'on-failure', 'never'] as const),
        onExit: rand() < 0.2 ? 'halt' : 'restart',
        timeoutKillMs: pick([0, 3000]),
        maxDeathTally: pick([1, 3, 100]),
      });
      let now = 0;
      let pid = 1000;
      const events: Timed[] = [];
      let armed: number | null = null;
      for (let i = 0; i < 60; i++) {
        const trace = run(spec, events);
        // Track the one timer the way the daemon would: a fired timer is gone.
        if (i > 0 && trace.steps.at(-1)?.event?.type === 'timer') armed = null;
        for (const e of trace.last) {
          if (e.type === 'set-timer') armed = e.at;
          if (e.type === 'clear-timer') armed = null;
        }
        const s = trace.state;
        if (trace.last.some((e) => e.type === 'spawn')) assert.equal(s.kind, 'spawning', `seed ${seed}: spawn outside spawning`);
        if (trace.last.some((e) => e.type === 'halt')) assert.equal(s.kind, 'down', `seed ${seed}: halt but not down`);
        assert.ok(trace.service.deaths.length <= Math.max(spec.maxDeathTally, 1), `seed ${seed}: tally`);
        for (const e of trace.last) if (e.type === 'set-timer') assert.ok(e.at >= now, `seed ${seed}: timer in the past`);
        if (s.kind === 'backoff') assert.notEqual(armed, null, `seed ${seed}: backoff with no timer armed`);
        const commands = [ev.up, ev.down, ev.once, ev.restart, ev.signal('SIGHUP')];
        const possible = [...commands];
        if (s.kind === 'spawning') possible.push(ev.spawned(++pid), ev.spawnFailed('EACCES'));
        if (s.kind === 'starting') possible.push(ev.ready);
        if (s.kind === 'starting' || s.kind === 'up' || s.kind === 'stopping') possible.push(ev.exited(pick([0, 1])), ev.killed(9));
        if (s.kind === 'finishing') possible.push(ev.finishExited(pick([0, 1, 125])));
        let event = pick(possible);
        let at = now + Math.floor(rand() * 500);
        if (armed !== null && (rand() < 0.3 || at >= armed)) {
          event = ev.timer;
          at = Math.max(now, armed);
        }
        now = at;
        events.push([at, event]);
      }
      // The whole walk replays without an illegal event (run asserts that).
      run(spec, events);
    }
  });
});
