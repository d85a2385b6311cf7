/**
 * One service's supervision as a pure state machine: `step(service, event, now)` returns the
 * next service and the effects the daemon must carry out. No I/O, no clock: time comes in as
 * `now` (ms, monotonic), so tests drive it in virtual time.
 */
import { CRASH_LOOP_STREAK, restartDelayMs } from './backoff.js';
import { exitCodeOf, finishArgs, isSuccess, type ExitStatus } from './exit-status.js';
import type { ServiceSpec } from './service-spec.js';

/** What the user wants: s6-svc's -u, -d and -o. */
export type Goal = 'up' | 'down' | 'once';

export type DownReason = 'wanted' | 'exited' | 'permanent-failure';

export type ServiceState =
  | { readonly kind: 'down'; readonly since: number; readonly reason: DownReason }
  /** The spawn effect is out; `spawned` or `spawn-failed` comes next. */
  | { readonly kind: 'spawning'; readonly since: number }
  /** Running, waiting for its readiness notification. */
  | { readonly kind: 'starting'; readonly pid: number; readonly since: number }
  | { readonly kind: 'up'; readonly pid: number; readonly since: number; readonly readyAt: number }
  /** Down signal sent; SIGKILL follows at the timer unless it exits first. */
  | { readonly kind: 'stopping'; readonly pid: number; readonly since: number; readonly killed: boolean }
  /** `finish` is running for the death in `status`. */
  | {
      readonly kind: 'finishing';
      readonly status: ExitStatus;
      readonly requested: boolean;
      readonly killed: boolean;
    }
  | { readonly kind: 'backoff'; readonly until: number };

export interface Death {
  readonly at: number;
  readonly status: ExitStatus;
  readonly ranMs: number;
}

export interface Service {
  readonly spec: ServiceSpec;
  readonly goal: Goal;
  readonly state: ServiceState;
  /** Newest last; at most `spec.maxDeathTally` kept. */
  readonly deaths: readonly Death[];
  /** Unrequested quick deaths in a row (a long enough run resets it to 1 at its death). */
  readonly streak: number;
  readonly crashLoop: boolean;
  readonly restarts: number;
}

export type ServiceEvent =
  | { readonly type: 'up' }
  | { readonly type: 'down' }
  | { readonly type: 'once' }
  /** s6-svc -r: stop it with its down signal and start it again. */
  | { readonly type: 'restart' }
  | { readonly type: 'signal'; readonly signal: string }
  | { readonly type: 'spawned'; readonly pid: number }
  | { readonly type: 'spawn-failed'; readonly error: string }
  | { readonly type: 'ready' }
  | { readonly type: 'exited'; readonly status: ExitStatus }
  | { readonly type: 'finish-exited'; readonly status: ExitStatus }
  | { readonly type: 'timer' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

export type Effect =
  | { readonly type: 'spawn' }
  | { readonly type: 'signal'; readonly pid: number; readonly signal: string }
  | { readonly type: 'run-finish'; readonly args: readonly [string, string] }
  | { readonly type: 'kill-finish' }
  /** Arms the service's one timer at `at`, replacing any armed one. */
  | { readonly type: 'set-timer'; readonly at: number }
  | { readonly type: 'clear-timer' }
  | { readonly type: 'log'; readonly level: LogLevel; readonly event: string; readonly fields: LogFields }
  /** The service's `on-exit` is `halt`: stop the container with this code. */
  | { readonly type: 'halt'; readonly code: number };

export interface Step {
  readonly service: Service;
  readonly effects: readonly Effect[];
}

/** A new service as warden first sees it: down, and wanted up unless it has a `down` file. */
export function initialService(spec: ServiceSpec, now: number): Service {
  return {
    spec,
    goal: spec.downAtBoot ? 'down' : 'up',
    state: { kind: 'down', since: now, reason: 'wanted' },
    deaths: [],
    streak: 0,
    crashLoop: false,
    restarts: 0,
  };
}

/** Effects that bring a fresh service to its goal (call once after `initialService`). */
export function boot(service: Service, now: number): Step {
  return service.goal === 'down' ? { service, effects: [] } : spawn(service, now);
}

const log = (level: LogLevel, event: string, fields: LogFields = {}): Effect => ({
  type: 'log',
  level,
  event,
  fields,
});

function illegal(service: Service, event: ServiceEvent): Step {
  return {
    service,
    effects: [log('warn', 'illegal-event', { state: service.state.kind, received: event.type })],
  };
}

function spawn(service: Service, now: number): Step {
  return { service: { ...service, state: { kind: 'spawning', since: now } }, effects: [{ type: 'spawn' }] };
}

function withGoal(service: Service, goal: Goal): Step {
  return { service: { ...service, goal }, effects: [] };
}

/** Sends the down signal (and SIGCONT, as s6 does, so a stopped process can act on it). */
function stop(service: Service, pid: number, since: number, now: number): Step {
  const { downSignal, timeoutKillMs } = service.spec;
  const effects: Effect[] = [
    log('info', 'stopping', { pid, signal: downSignal }),
    { type: 'signal', pid, signal: downSignal },
  ];
  if (downSignal !== 'SIGCONT' && downSignal !== 'SIGKILL') effects.push({ type: 'signal', pid, signal: 'SIGCONT' });
  if (timeoutKillMs > 0 && downSignal !== 'SIGKILL') effects.push({ type: 'set-timer', at: now + timeoutKillMs });
  return { service: { ...service, state: { kind: 'stopping', pid, since, killed: false } }, effects };
}

/** Records a death; unrequested quick deaths grow the streak and may open a crash loop. */
function recordDeath(service: Service, status: ExitStatus, since: number, requested: boolean, now: number): Step {
  const ranMs = Math.round(now - since);
  const deaths = [...service.deaths, { at: now, status, ranMs }].slice(-Math.max(service.spec.maxDeathTally, 1));
  const effects: Effect[] = [
    log(requested || isSuccess(status) ? 'info' : 'warn', 'exited', { ...statusFields(status), ranMs }),
  ];
  if (requested) return { service: { ...service, deaths }, effects };

  const longRun = ranMs >= service.spec.restartResetMs;
  const streak = longRun ? 1 : service.streak + 1;
  let crashLoop = service.crashLoop;
  if (crashLoop && longRun) {
    crashLoop = false;
    effects.push(log('info', 'crash-loop-ended', { ranMs }));
  } else if (!crashLoop && streak >= CRASH_LOOP_STREAK) {
    crashLoop = true;
    effects.push(log('error', 'crash-loop', { deaths: streak, maxDelayMs: service.spec.restartDelay.maxMs }));
  }
  return { service: { ...service, deaths, streak, crashLoop }, effects };
}

function statusFields(status: ExitStatus): LogFields {
  return status.kind === 'exited' ? { code: status.code } : { signal: status.signal };
}

/** After a death (and its finish script): restart now, back off, go down, or halt. */
function afterDeath(service: Service, status: ExitStatus, requested: boolean, now: number): Step {
  const down = (reason: DownReason, goal: Goal, effects: Effect[] = []): Step => ({
    service: { ...service, goal, state: { kind: 'down', since: now, reason } },
    effects,
  });
  if (service.goal !== 'up') return down(requested ? 'wanted' : 'exited', 'down');
  if (requested) return respawn(service, now);
  const { onExit, restart } = service.spec;
  if (onExit === 'halt') {
    const code = exitCodeOf(status);
    return down('exited', 'down', [log('warn', 'halt', { code }), { type: 'halt', code }]);
  }
  if (restart === 'never' || (restart === 'on-failure' && isSuccess(status))) return down('exited', 'down');

  const lastDeath = service.deaths.at(-1)?.at ?? now;
  const until = lastDeath + restartDelayMs(service.streak, service.spec.restartDelay);
  if (until <= now) return respawn(service, now);
  return {
    service: { ...service, state: { kind: 'backoff', until } },
    effects: [log('info', 'backoff', { delayMs: Math.round(until - now), deaths: service.streak }), { type: 'set-timer', at: until }],
  };
}

function respawn(service: Service, now: number): Step {
  return spawn({ ...service, restarts: service.restarts + 1 }, now);
}

/** A death of the running program: record it, then run `finish` or decide at once. */
function died(service: Service, status: ExitStatus, since: number, requested: boolean, now: number): Step {
  const recorded = recordDeath(service, status, since, requested, now);
  const { finish, timeoutFinishMs } = service.spec;
  if (finish === null) {
    const next = afterDeath(recorded.service, status, requested, now);
    return { service: next.service, effects: [...recorded.effects, ...next.effects] };
  }
  const effects: Effect[] = [...recorded.effects, { type: 'run-finish', args: finishArgs(status) }];
  if (timeoutFinishMs > 0) effects.push({ type: 'set-timer', at: now + timeoutFinishMs });
  else effects.push({ type: 'clear-timer' });
  return {
    service: { ...recorded.service, state: { kind: 'finishing', status, requested, killed: false } },
    effects,
  };
}

/** The transition table: for each state, what each event does. */
export function step(service: Service, event: ServiceEvent, now: number): Step {
  const state = service.state;
  switch (state.kind) {
    case 'down':
      switch (event.type) {
        case 'up':
        case 'once':
          return spawn({ ...service, goal: event.type, streak: 0, crashLoop: false }, now);
        case 'down':
          return withGoal(service, 'down');
        case 'restart':
        case 'signal':
          return { service, effects: [log('info', 'not-running', { command: event.type })] };
        default:
          return illegal(service, event);
      }

    case 'spawning':
      switch (event.type) {
        case 'spawned': {
          const started = log('info', 'started', { pid: event.pid, restarts: service.restarts });
          if (service.goal === 'down') {
            const stopped = stop(service, event.pid, now, now);
            return { service: stopped.service, effects: [started, ...stopped.effects] };
          }
          const next: ServiceState =
            service.spec.notificationFd === null
              ? { kind: 'up', pid: event.pid, since: now, readyAt: now }
              : { kind: 'starting', pid: event.pid, since: now };
          return { service: { ...service, state: next }, effects: [started] };
        }
        case 'spawn-failed': {
          // A program that cannot start is a quick death like any other: it backs off.
          const failed = log('error', 'spawn-failed', { error: event.error });
          const next = died(service, { kind: 'exited', code: 111 }, now, false, now);
          return { service: next.service, effects: [failed, ...next.effects] };
        }
        case 'up':
        case 'down':
        case 'once':
          return withGoal(service, event.type);
        case 'restart':
        case 'signal':
          return { service, effects: [] };
        default:
          return illegal(service, event);
      }

    case 'starting':
    case 'up':
      switch (event.type) {
        case 'up':
        case 'once':
          return withGoal(service, event.type);
        case 'down':
          return stop({ ...service, goal: 'down' }, state.pid, state.since, now);
        case 'restart':
          return stop(service, state.pid, state.since, now);
        case 'signal':
          return { service, effects: [{ type: 'signal', pid: state.pid, signal: event.signal }] };
        case 'ready':
          if (state.kind === 'up') return { service, effects: [] };
          return {
            service: { ...service, state: { kind: 'up', pid: state.pid, since: state.since, readyAt: now } },
            effects: [log('info', 'ready', { pid: state.pid, afterMs: Math.round(now - state.since) })],
          };
        case 'exited':
          return died(service, event.status, state.since, false, now);
        default:
          return illegal(service, event);
      }

    case 'stopping':
      switch (event.type) {
        case 'exited': {
          const next = died(service, event.status, state.since, true, now);
          // The kill timer is moot once it is dead (finish re-arms its own).
          const timer = next.effects.some((e) => e.type === 'set-timer') ? [] : [{ type: 'clear-timer' } as const];
          return { service: next.service, effects: [...timer, ...next.effects] };
        }
        case 'timer':
          if (state.killed) return { service, effects: [] };
          return {
            service: { ...service, state: { ...state, killed: true } },
            effects: [
              log('warn', 'kill-timeout', { pid: state.pid, afterMs: service.spec.timeoutKillMs }),
              { type: 'signal', pid: state.pid, signal: 'SIGKILL' },
            ],
          };
        case 'up':
        case 'down':
        case 'once':
          return withGoal(service, event.type);
        case 'signal':
          return { service, effects: [{ type: 'signal', pid: state.pid, signal: event.signal }] };
        case 'restart':
        case 'ready':
          return { service, effects: [] };
        default:
          return illegal(service, event);
      }

    case 'finishing':
      switch (event.type) {
        case 'finish-exited': {
          const effects: Effect[] = [{ type: 'clear-timer' }];
          if (event.status.kind === 'exited' && event.status.code === 125) {
            effects.push(log('error', 'permanent-failure', { reason: 'finish exited 125' }));
            return {
              service: { ...service, goal: 'down', state: { kind: 'down', since: now, reason: 'permanent-failure' } },
              effects,
            };
          }
          const next = afterDeath(service, state.status, state.requested, now);
          return { service: next.service, effects: [...effects, ...next.effects] };
        }
        case 'timer':
          if (state.killed) return { service, effects: [] };
          return {
            service: { ...service, state: { ...state, killed: true } },
            effects: [log('warn', 'finish-timeout', { afterMs: service.spec.timeoutFinishMs }), { type: 'kill-finish' }],
          };
        case 'up':
        case 'down':
        case 'once':
          return withGoal(service, event.type);
        case 'restart':
        case 'signal':
          return { service, effects: [] };
        default:
          return illegal(service, event);
      }

    case 'backoff':
      switch (event.type) {
        case 'timer':
          return respawn(service, now);
        case 'restart': {
          const next = respawn(service, now);
          return { service: next.service, effects: [{ type: 'clear-timer' }, ...next.effects] };
        }
        case 'down':
          return {
            service: { ...service, goal: 'down', state: { kind: 'down', since: now, reason: 'wanted' } },
            effects: [{ type: 'clear-timer' }],
          };
        case 'up':
        case 'once':
          return withGoal(service, event.type);
        case 'signal':
          return { service, effects: [] };
        default:
          return illegal(service, event);
      }

    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}
