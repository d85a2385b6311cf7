/**
 * Virtual-time harness for the service state machine: a spec with every default, and `run`,
 * which boots a service at t=0 and feeds it timed events, recording every step.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExitStatus } from '../../../src/core/exit-status.js';
import {
  boot,
  initialService,
  step,
  type Effect,
  type Service,
  type ServiceEvent,
  type ServiceState,
} from '../../../src/core/service-machine.js';
import type { ServiceSpec } from '../../../src/core/service-spec.js';

/** A spec as `src/config` would produce for a dir holding only `run`, with `overrides` on top. */
export function makeSpec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: 'svc',
    dir: '/etc/warden/services.d/svc',
    run: '/etc/warden/services.d/svc/run',
    finish: null,
    runVia: [],
    finishVia: [],
    downAtBoot: false,
    notificationFd: null,
    timeoutKillMs: 3000,
    timeoutFinishMs: 5000,
    downSignal: 'SIGTERM',
    user: null,
    forwardSignals: [],
    listen: [],
    maxDeathTally: 100,
    env: {},
    restart: 'always',
    restartDelay: { minMs: 0, maxMs: 30000 },
    restartResetMs: 10000,
    onExit: 'restart',
    dependencies: [],
    logLimits: { maxBytes: 1048576, keep: 10 },
    scriptsFingerprint: '0',
    notifySocket: false,
    notifyAccess: 'all',
    check: null,
    ...overrides,
  };
}

/** An event at a virtual time (ms). */
export type Timed = readonly [at: number, event: ServiceEvent];

export interface StepRecord {
  /** The event fed, or null for the boot step at t=0. */
  readonly at: number;
  readonly event: ServiceEvent | null;
  readonly kind: ServiceState['kind'];
  readonly effects: readonly Effect[];
}

export interface Trace {
  /** Boot first, then one record per event. */
  readonly steps: readonly StepRecord[];
  readonly service: Service;
  readonly state: ServiceState;
  /** Effects of the last step only. */
  readonly last: readonly Effect[];
  /** Every effect of every step, in order. */
  readonly all: readonly Effect[];
}

export interface RunOptions {
  /** Do not fail on `illegal-event` warnings (the case asserts them itself). */
  readonly allowIllegal?: boolean;
}

/** Boots a service built from `spec` at t=0 and feeds `events` in order. */
export function run(spec: ServiceSpec, events: readonly Timed[], options: RunOptions = {}): Trace {
  const booted = boot(initialService(spec, 0), 0);
  const steps: StepRecord[] = [{ at: 0, event: null, kind: booted.service.state.kind, effects: booted.effects }];
  let service = booted.service;
  let previous = 0;
  for (const [at, event] of events) {
    assert.ok(at >= previous, `events must be in time order: ${at} after ${previous}`);
    previous = at;
    const next = step(service, event, at);
    if (!options.allowIllegal) {
      const illegal = next.effects.find((e) => e.type === 'log' && e.event === 'illegal-event');
      assert.equal(illegal, undefined, `illegal event at t=${at}: ${JSON.stringify(illegal)}`);
    }
    steps.push({ at, event, kind: next.service.state.kind, effects: next.effects });
    service = next.service;
  }
  const last = steps.at(-1)!.effects;
  return { steps, service, state: service.state, last, all: steps.flatMap((s) => s.effects) };
}

export const exited = (code: number): ExitStatus => ({ kind: 'exited', code });
export const killed = (signal: number): ExitStatus => ({ kind: 'killed', signal });

/** Event constructors, so tables read like a log. */
export const ev = {
  up: { type: 'up' },
  down: { type: 'down' },
  once: { type: 'once' },
  restart: { type: 'restart' },
  ready: { type: 'ready' },
  /** The main timer (kill timeout, finish timeout, backoff). */
  timer: { type: 'timer', timer: 'main' },
  /** The check timer (next probe run, or the running probe's timeout). */
  checkTimer: { type: 'timer', timer: 'check' },
  checkPassed: { type: 'check-passed' },
  checkFailed: (code: number, output = ''): ServiceEvent => ({ type: 'check-failed', status: exited(code), output }),
  status: (text: string): ServiceEvent => ({ type: 'notify-status', text }),
  stoppingNotified: { type: 'notify-stopping' },
  spawned: (pid: number): ServiceEvent => ({ type: 'spawned', pid }),
  spawnFailed: (error: string): ServiceEvent => ({ type: 'spawn-failed', error }),
  exited: (code: number): ServiceEvent => ({ type: 'exited', status: exited(code) }),
  killed: (signal: number): ServiceEvent => ({ type: 'exited', status: killed(signal) }),
  finishStarted: (pid: number): ServiceEvent => ({ type: 'finish-started', pid }),
  kill: { type: 'kill' },
  finishExited: (code: number): ServiceEvent => ({ type: 'finish-exited', status: exited(code) }),
  finishKilled: (signal: number): ServiceEvent => ({ type: 'finish-exited', status: killed(signal) }),
  signal: (signal: string): ServiceEvent => ({ type: 'signal', signal }),
} as const satisfies Record<string, ServiceEvent | ((arg: never) => ServiceEvent)>;

/** Effects other than logs: what the daemon actually does. */
export function actions(effects: readonly Effect[]): Effect[] {
  return effects.filter((e) => e.type !== 'log');
}

/** The `event` names of the log effects, in order. */
export function logEvents(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.type === 'log' ? [e.event] : []));
}

/** The log effect named `event` (fails when there is none or more than one). */
export function logOf(effects: readonly Effect[], event: string): Extract<Effect, { type: 'log' }> {
  const found = effects.filter((e): e is Extract<Effect, { type: 'log' }> => e.type === 'log' && e.event === event);
  assert.equal(found.length, 1, `expected one "${event}" log, got ${found.length}: ${JSON.stringify(effects)}`);
  return found[0]!;
}

/**
 * `n` quick deaths of a service spawned at t=0: each process runs `runMs`, then exits 1; a
 * backoff timer (when the step set one) fires exactly at its `at` and the next process is spawned
 * 1 ms later. The events end with the last death. Only for specs with `finish: null`.
 */
export function quickDeaths(spec: ServiceSpec, n: number, runMs = 10, firstPid = 100): Timed[] {
  const events: Timed[] = [];
  // Replays as it goes, since each death's wait depends on the machine's backoff.
  let t = 1;
  let pid = firstPid;
  events.push([t, ev.spawned(pid)]);
  for (let i = 0; i < n; i++) {
    t += runMs;
    events.push([t, ev.exited(1)]);
    if (i === n - 1) break;
    const trace = run(spec, events);
    const timer = trace.last.find((e): e is Extract<Effect, { type: 'set-timer' }> => e.type === 'set-timer' && e.timer === 'main');
    if (timer !== undefined) {
      t = timer.at;
      events.push([t, ev.timer]);
    }
    t += 1;
    pid += 1;
    events.push([t, ev.spawned(pid)]);
  }
  return events;
}

/** A log effect, for writing expected effects in tables. */
export function logged(
  level: Extract<Effect, { type: 'log' }>['level'],
  event: string,
  fields: Extract<Effect, { type: 'log' }>['fields'] = {},
): Effect {
  return { type: 'log', level, event, fields };
}

export interface Case {
  readonly name: string;
  readonly spec?: Partial<ServiceSpec>;
  readonly events: readonly Timed[];
  /** The final state, data included. */
  readonly state: ServiceState;
  /** Fields of the final service to compare. */
  readonly service?: Partial<Pick<Service, 'goal' | 'restarts' | 'streak' | 'crashLoop' | 'statusText'>>;
  /** Exactly the effects of the last step. */
  readonly last: readonly Effect[];
  readonly allowIllegal?: boolean;
  /** Anything more the case asserts about the whole trace. */
  readonly check?: (trace: Trace) => void;
}

/** One test per case: run its events, then compare the final state, fields and last effects. */
export function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      test(c.name, () => {
        const trace = run(makeSpec(c.spec), c.events, { allowIllegal: c.allowIllegal ?? false });
        assert.deepEqual(trace.state, c.state, 'final state');
        for (const [key, want] of Object.entries(c.service ?? {})) {
          assert.deepEqual(trace.service[key as keyof Service], want, `service.${key}`);
        }
        assert.deepEqual(trace.last, c.last, 'effects of the last step');
        c.check?.(trace);
      });
    }
  });
}

export const started = (pid: number, restarts = 0): Effect => logged('info', 'started', { pid, restarts });

/** A small deterministic PRNG (mulberry32) and a picker on it, so a failing random walk replays. */
export function randomSource(seed: number): { rand: () => number; pick: <T>(xs: readonly T[]) => T } {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { rand, pick: (xs) => xs[Math.floor(rand() * xs.length)]! };
}
