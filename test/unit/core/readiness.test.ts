/**
 * Readiness and liveness in the core, in virtual time: the `check` probe (its own timer and
 * sub-state), NOTIFY_SOCKET's `READY=1` / `STATUS=` / `STOPPING=1`, and their illegal events.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Effect, ServiceEvent } from '../../../src/core/service-machine.js';
import type { CheckSpec, ServiceSpec } from '../../../src/core/service-spec.js';
import { ev, logged, makeSpec, run, started, table, type Timed, randomSource } from './harness.js';

const CHECK: CheckSpec = { file: '/etc/warden/services.d/svc/check', intervalMs: 1000, timeoutMs: 200, retries: 3 };
const withCheck = (over: Partial<CheckSpec> = {}): Partial<ServiceSpec> => ({ check: { ...CHECK, ...over } });

const runCheck: Effect = { type: 'run-check' };
const stopCheck: Effect = { type: 'stop-check' };
const setTimer = (timer: 'main' | 'check', at: number): Effect => ({ type: 'set-timer', timer, at });
const clearTimer = (timer: 'main' | 'check'): Effect => ({ type: 'clear-timer', timer });
const stopping = (pid: number, at: number): Effect[] => [
  logged('info', 'stopping', { pid, signal: 'SIGTERM' }),
  { type: 'signal', pid, signal: 'SIGTERM' },
  { type: 'signal', pid, signal: 'SIGCONT' },
  setTimer('main', at + 3000),
];
const illegalIn = (state: string, received: string): Effect[] => [logged('warn', 'illegal-event', { state, received })];

/** Spawned at 1, its first check run at once, passing at 50: up and ready at 50. */
const readyByCheck: Timed[] = [
  [1, ev.spawned(100)],
  [50, ev.checkPassed],
];
/** After `readyByCheck`: the next run at 1050 fails (exit `code`) at 1060. */
const oneFailure = (code = 1, output = 'connection refused'): Timed[] => [
  ...readyByCheck,
  [1050, ev.checkTimer],
  [1060, ev.checkFailed(code, output)],
];

table('check: readiness', [
  {
    name: 'spawned with a check is starting, and the first run starts at once with its timeout',
    spec: withCheck(),
    events: [[1, ev.spawned(100)]],
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'running', failures: 0, since: 1 } },
    last: [started(100), runCheck, setTimer('check', 201)],
  },
  {
    name: 'the first pass makes it up and ready, and arms the next run check-interval later',
    spec: withCheck(),
    events: readyByCheck,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 50, probe: { kind: 'idle', failures: 0 } },
    last: [logged('info', 'ready', { pid: 100, afterMs: 49 }), setTimer('check', 1050)],
  },
  {
    name: 'a failure before the first pass does not count: still starting, next run an interval later',
    spec: withCheck(),
    events: [
      [1, ev.spawned(100)],
      [30, ev.checkFailed(7, 'not yet')],
    ],
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'idle', failures: 0 } },
    last: [logged('debug', 'check-not-ready', { code: 7, output: 'not yet' }), setTimer('check', 1030)],
  },
  {
    name: 'many failures while starting never restart it',
    spec: withCheck({ retries: 1 }),
    events: [
      [1, ev.spawned(100)],
      [30, ev.checkFailed(1)],
      [1030, ev.checkTimer],
      [1040, ev.checkFailed(1)],
      [2040, ev.checkTimer],
      [2050, ev.checkFailed(1)],
    ],
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'idle', failures: 0 } },
    last: [logged('debug', 'check-not-ready', { code: 1, output: '' }), setTimer('check', 3050)],
  },
  {
    name: 'the check timer while idle starts a run',
    spec: withCheck(),
    events: [
      [1, ev.spawned(100)],
      [30, ev.checkFailed(1)],
      [1030, ev.checkTimer],
    ],
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'running', failures: 0, since: 1030 } },
    last: [runCheck, setTimer('check', 1230)],
  },
  {
    name: 'a run that outlives check-timeout is stopped and counts as failed',
    spec: withCheck(),
    events: [
      [1, ev.spawned(100)],
      [201, ev.checkTimer],
    ],
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'idle', failures: 0 } },
    last: [stopCheck, logged('debug', 'check-not-ready', { timedOut: true, afterMs: 200 }), setTimer('check', 1201)],
  },
  {
    name: 'check-timeout 0: a run has no timer',
    spec: withCheck({ timeoutMs: 0 }),
    events: [[1, ev.spawned(100)]],
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'running', failures: 0, since: 1 } },
    last: [started(100), runCheck],
  },
  {
    name: 'with notification-fd too, a passing check does not make it ready: the fd does',
    spec: { ...withCheck(), notificationFd: 3 },
    events: readyByCheck,
    state: { kind: 'starting', pid: 100, since: 1, probe: { kind: 'idle', failures: 0 } },
    last: [setTimer('check', 1050)],
  },
  {
    name: 'with notify-socket too, READY=1 makes it ready and the probe goes on',
    spec: { ...withCheck(), notifySocket: true },
    events: [...readyByCheck, [70, ev.ready]],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 70, probe: { kind: 'idle', failures: 0 } },
    last: [logged('info', 'ready', { pid: 100, afterMs: 69 })],
  },
]);

table('check: liveness', [
  {
    name: 'a failure once up is counted and logged with its code and output',
    spec: withCheck(),
    events: oneFailure(2, 'HTTP 503'),
    state: { kind: 'up', pid: 100, since: 1, readyAt: 50, probe: { kind: 'idle', failures: 1 } },
    last: [logged('warn', 'check-failure', { code: 2, output: 'HTTP 503', failures: 1, retries: 3 }), setTimer('check', 2060)],
  },
  {
    name: 'a pass after failures resets the count and logs the recovery',
    spec: withCheck(),
    events: [...oneFailure(), [2060, ev.checkTimer], [2070, ev.checkPassed]],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 50, probe: { kind: 'idle', failures: 0 } },
    last: [logged('info', 'check-recovered', { failures: 1 }), setTimer('check', 3070)],
  },
  {
    name: 'check-retries failures in a row restart it: check-failed, then the down signal',
    spec: withCheck(),
    events: [
      ...oneFailure(),
      [2060, ev.checkTimer],
      [2070, ev.checkFailed(1, 'still down')],
      [3070, ev.checkTimer],
      [3080, ev.checkFailed(1, 'still down')],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'up' },
    last: [clearTimer('check'), logged('error', 'check-failed', { code: 1, output: 'still down', failures: 3 }), ...stopping(100, 3080)],
  },
  {
    name: 'a timed-out run counts toward the retries like any failure',
    spec: withCheck({ retries: 2 }),
    events: [...oneFailure(), [2060, ev.checkTimer], [2260, ev.checkTimer]],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [stopCheck, clearTimer('check'), logged('error', 'check-failed', { timedOut: true, afterMs: 200, failures: 2 }), ...stopping(100, 2260)],
  },
  {
    name: 'a killed check is a failure with its signal',
    spec: withCheck({ retries: 1 }),
    events: [...readyByCheck, [1050, ev.checkTimer], [1060, { type: 'check-failed', status: { kind: 'killed', signal: 9 }, output: '' }]],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [clearTimer('check'), logged('error', 'check-failed', { signal: 9, output: '', failures: 1 }), ...stopping(100, 1060)],
  },
  {
    name: 'the restart after check-failed is immediate and counted, not a quick death with backoff',
    spec: withCheck({ retries: 1 }),
    events: [...oneFailure(), [1100, ev.exited(0)]],
    state: { kind: 'spawning', since: 1100 },
    service: { restarts: 1, streak: 0 },
    last: [clearTimer('main'), logged('info', 'exited', { code: 0, ranMs: 1099 }), { type: 'spawn' }],
  },
  {
    name: 'the new process starts its own probe from zero',
    spec: withCheck({ retries: 1 }),
    events: [...oneFailure(), [1100, ev.exited(0)], [1101, ev.spawned(101)]],
    state: { kind: 'starting', pid: 101, since: 1101, probe: { kind: 'running', failures: 0, since: 1101 } },
    last: [started(101, 1), runCheck, setTimer('check', 1301)],
  },
]);

table('check: the probe ends with its process', [
  {
    name: 'down while a run is out: clear the check timer, stop the run, then the down signal',
    spec: withCheck(),
    events: [
      [1, ev.spawned(100)],
      [10, ev.down],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [clearTimer('check'), stopCheck, ...stopping(100, 10)],
  },
  {
    name: 'down while idle: only the check timer to clear',
    spec: withCheck(),
    events: [...readyByCheck, [60, ev.down]],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'down' },
    last: [clearTimer('check'), ...stopping(100, 60)],
  },
  {
    name: 'restart while a run is out stops the run too',
    spec: withCheck(),
    events: [...readyByCheck, [1050, ev.checkTimer], [1055, ev.restart]],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { goal: 'up' },
    last: [clearTimer('check'), stopCheck, ...stopping(100, 1055)],
  },
  {
    name: 'the process dies while a run is out: the run is stopped before the death is handled',
    spec: withCheck(),
    events: [...readyByCheck, [1050, ev.checkTimer], [1055, ev.exited(1)]],
    state: { kind: 'backoff', until: 1055 },
    last: [clearTimer('check'), stopCheck, logged('warn', 'exited', { code: 1, ranMs: 1054 }), setTimer('main', 1055)],
  },
  {
    name: 'spawned while wanted down: stopped at once, no probe started',
    spec: withCheck(),
    events: [
      [0, ev.down],
      [1, ev.spawned(100)],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: [started(100), ...stopping(100, 1)],
  },
]);

table('NOTIFY_SOCKET', [
  {
    name: 'spawned with notify-socket is starting, with no probe',
    spec: { notifySocket: true },
    events: [[1, ev.spawned(100)]],
    state: { kind: 'starting', pid: 100, since: 1, probe: null },
    last: [started(100)],
  },
  {
    name: 'READY=1 makes it up and logs how long it took',
    spec: { notifySocket: true },
    events: [
      [1, ev.spawned(100)],
      [301, ev.ready],
    ],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 301, probe: null },
    last: [logged('info', 'ready', { pid: 100, afterMs: 300 })],
  },
  {
    name: 'STATUS= is kept (logged at debug only: some programs update it often)',
    spec: { notifySocket: true },
    events: [
      [1, ev.spawned(100)],
      [5, ev.status('Loading')],
      [9, ev.status('Serving 3 backends')],
    ],
    state: { kind: 'starting', pid: 100, since: 1, probe: null },
    service: { statusText: 'Serving 3 backends' },
    last: [logged('debug', 'status', { text: 'Serving 3 backends' })],
  },
  {
    name: 'STATUS= while stopping is kept too',
    spec: { notifySocket: true },
    events: [
      [1, ev.spawned(100)],
      [5, ev.down],
      [6, ev.status('Draining')],
    ],
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    service: { statusText: 'Draining' },
    last: [logged('debug', 'status', { text: 'Draining' })],
  },
  {
    name: 'the status text outlives the death and is cleared at the next start',
    spec: { notifySocket: true },
    events: [
      [1, ev.spawned(100)],
      [5, ev.status('bad config')],
      [6, ev.exited(1)],
      [6, ev.timer],
    ],
    state: { kind: 'spawning', since: 6 },
    service: { statusText: null },
    check: (trace) => assert.equal(trace.steps.at(-3)?.kind, 'starting'),
    last: [{ type: 'spawn' }],
  },
  {
    name: 'the status text stays during backoff',
    spec: { notifySocket: true, restartDelay: { minMs: 100, maxMs: 1000 } },
    events: [
      [1, ev.spawned(100)],
      [5, ev.status('bad config')],
      [6, ev.exited(1)],
    ],
    state: { kind: 'backoff', until: 106 },
    service: { statusText: 'bad config' },
    last: [logged('warn', 'exited', { code: 1, ranMs: 5 }), logged('info', 'backoff', { delayMs: 100, deaths: 1 }), setTimer('main', 106)],
  },
  {
    name: 'STOPPING=1 is logged',
    spec: { notifySocket: true },
    events: [
      [1, ev.spawned(100)],
      [2, ev.ready],
      [9, ev.stoppingNotified],
    ],
    state: { kind: 'up', pid: 100, since: 1, readyAt: 2, probe: null },
    last: [logged('info', 'notify-stopping', { pid: 100 })],
  },
]);

table('illegal readiness events', [
  {
    name: 'check-passed for a service without a check',
    events: [
      [1, ev.spawned(100)],
      [5, ev.checkPassed],
    ],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: illegalIn('up', 'check-passed'),
  },
  {
    name: 'the check timer for a service without a check',
    events: [
      [1, ev.spawned(100)],
      [5, ev.checkTimer],
    ],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 1, probe: null },
    last: illegalIn('up', 'timer'),
  },
  {
    name: 'check-failed while the probe is idle (no run is out)',
    spec: withCheck(),
    events: [...readyByCheck, [60, ev.checkFailed(1)]],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 50, probe: { kind: 'idle', failures: 0 } },
    last: illegalIn('up', 'check-failed'),
  },
  {
    name: 'the main timer while up with a check',
    spec: withCheck(),
    events: [...readyByCheck, [60, ev.timer]],
    allowIllegal: true,
    state: { kind: 'up', pid: 100, since: 1, readyAt: 50, probe: { kind: 'idle', failures: 0 } },
    last: illegalIn('up', 'timer'),
  },
  {
    name: 'a check result while stopping (the run was stopped with its process)',
    spec: withCheck(),
    events: [
      [1, ev.spawned(100)],
      [10, ev.down],
      [20, ev.checkPassed],
    ],
    allowIllegal: true,
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: illegalIn('stopping', 'check-passed'),
  },
  {
    name: 'the check timer while stopping',
    spec: withCheck(),
    events: [
      [1, ev.spawned(100)],
      [10, ev.down],
      [201, ev.checkTimer],
    ],
    allowIllegal: true,
    state: { kind: 'stopping', pid: 100, since: 1, killed: false },
    last: illegalIn('stopping', 'timer'),
  },
  {
    name: 'the check timer in backoff',
    spec: { ...withCheck(), restartDelay: { minMs: 100, maxMs: 1000 } },
    events: [
      [1, ev.spawned(100)],
      [10, ev.exited(1)],
      [50, ev.checkTimer],
    ],
    allowIllegal: true,
    state: { kind: 'backoff', until: 110 },
    last: illegalIn('backoff', 'timer'),
  },
  {
    name: 'STATUS= while down',
    spec: { downAtBoot: true },
    events: [[5, ev.status('hello')]],
    allowIllegal: true,
    state: { kind: 'down', since: 0, reason: 'wanted' },
    service: { statusText: null },
    last: illegalIn('down', 'notify-status'),
  },
]);

describe('random walks with a check and NOTIFY_SOCKET', () => {

  test('two timers tracked as the daemon would: no illegal event, no probe outside a running process', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { rand, pick } = randomSource(seed);
      const spec = makeSpec({
        ...withCheck({ retries: pick([1, 2, 3]), timeoutMs: pick([0, 200]), intervalMs: pick([100, 1000]) }),
        notifySocket: rand() < 0.3,
        notificationFd: rand() < 0.2 ? 3 : null,
        finish: rand() < 0.3 ? '/etc/warden/services.d/svc/finish' : null,
        timeoutKillMs: pick([0, 3000]),
      });
      let now = 0;
      let pid = 1000;
      const events: Timed[] = [];
      const armed: Record<'main' | 'check', number | null> = { main: null, check: null };
      let checkOut = false;
      for (let i = 0; i < 80; i++) {
        const trace = run(spec, events);
        const lastEvent = trace.steps.at(-1)?.event;
        if (i > 0 && lastEvent?.type === 'timer') armed[lastEvent.timer] = null;
        for (const e of trace.last) {
          if (e.type === 'set-timer') armed[e.timer] = e.at;
          if (e.type === 'clear-timer') armed[e.timer] = null;
          if (e.type === 'run-check') checkOut = true;
          if (e.type === 'stop-check') checkOut = false;
        }
        if (lastEvent?.type === 'check-passed' || lastEvent?.type === 'check-failed') checkOut = false;
        const s = trace.state;
        const running = s.kind === 'starting' || s.kind === 'up';
        if (!running) {
          assert.equal(armed.check, null, `seed ${seed} step ${i}: check timer armed in ${s.kind}`);
          assert.equal(checkOut, false, `seed ${seed} step ${i}: a check run left in ${s.kind}`);
        } else {
          assert.equal(s.probe?.kind === 'running', checkOut, `seed ${seed} step ${i}: probe state and runs disagree`);
          if (s.probe?.kind === 'idle') assert.notEqual(armed.check, null, `seed ${seed} step ${i}: idle probe with no timer`);
        }
        const possible: ServiceEvent[] = [ev.up, ev.down, ev.once, ev.restart, ev.signal('SIGHUP')];
        if (s.kind === 'spawning') possible.push(ev.spawned(++pid), ev.spawnFailed('EACCES'));
        if (s.kind === 'starting' && spec.notificationFd !== null) possible.push(ev.ready);
        if (s.kind === 'starting' || s.kind === 'up' || s.kind === 'stopping') {
          possible.push(ev.exited(pick([0, 1])), ev.status(`s${i}`), ev.stoppingNotified);
          if (spec.notifySocket) possible.push(ev.ready);
        }
        if (checkOut) possible.push(ev.checkPassed, ev.checkPassed, ev.checkFailed(1));
        if (s.kind === 'finishing') possible.push(ev.finishExited(pick([0, 1, 125])));
        let event = pick(possible);
        let at = now + Math.floor(rand() * 300);
        for (const timer of ['main', 'check'] as const) {
          const due = armed[timer];
          if (due !== null && (rand() < 0.25 || at >= due)) {
            event = timer === 'main' ? ev.timer : ev.checkTimer;
            at = Math.max(now, due);
            break;
          }
        }
        now = at;
        events.push([at, event]);
      }
      run(spec, events);
    }
  });
});
