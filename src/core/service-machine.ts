/**
 * One service's supervision as a pure state machine: `step(service, event, now)` returns the
 * next service and the effects the daemon must carry out. No I/O, no clock: time comes in as
 * `now` (ms, monotonic), so tests drive it in virtual time.
 */
import { CRASH_LOOP_STREAK, LAUNCH_FAILED_DELAY_MS, restartDelayMs } from './backoff.js';
import { exitCodeOf, finishArgs, isSuccess, LAUNCH_FAILED, type ExitStatus } from './exit-status.js';
import type { ServiceSpec } from './service-spec.js';

/** What the user wants: s6-svc's -u, -d and -o. */
export type Goal = 'up' | 'down' | 'once';

export type DownReason = 'wanted' | 'exited' | 'permanent-failure';

/**
 * A service has two timers: `main` (kill timeout, finish timeout or backoff: the state says
 * which) and `check` (the next probe run, or the running probe's timeout: the probe says which).
 */
export type TimerId = 'main' | 'check';

/** The `check` probe of a running service; null in the state when the service has no check. */
export type Probe =
  /** The check timer starts the next run. */
  | { readonly kind: 'idle'; readonly failures: number }
  /** A run is out; the check timer (if the check has a timeout) kills it. */
  | { readonly kind: 'running'; readonly failures: number; readonly since: number };

export type ServiceState =
  | { readonly kind: 'down'; readonly since: number; readonly reason: DownReason }
  /** The spawn effect is out; `spawned` or `spawn-failed` comes next. */
  | { readonly kind: 'spawning'; readonly since: number }
  /** Running, waiting for its readiness: notification fd, NOTIFY_SOCKET `READY=1`, or a passing check. */
  | { readonly kind: 'starting'; readonly pid: number; readonly since: number; readonly probe: Probe | null }
  | { readonly kind: 'up'; readonly pid: number; readonly since: number; readonly readyAt: number; readonly probe: Probe | null }
  /** Down signal sent; SIGKILL follows at the timer unless it exits first. */
  | { readonly kind: 'stopping'; readonly pid: number; readonly since: number; readonly killed: boolean }
  /** `finish` runs for the death in `status`. */
  | {
      readonly kind: 'finishing';
      readonly finisher: Finisher;
      readonly status: ExitStatus;
      readonly requested: boolean;
      readonly killed: boolean;
      /** The death was a launch that failed (`spawn-failed`): its restart waits at least LAUNCH_FAILED_DELAY_MS. */
      readonly launchFailed: boolean;
    }
  | { readonly kind: 'backoff'; readonly until: number };

/** The finish script of a `finishing` service: its launch is out, or it runs as `pid`. */
export type Finisher = { readonly kind: 'launching' } | { readonly kind: 'running'; readonly pid: number };

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
  /** The last `STATUS=` its current (or last) process sent over NOTIFY_SOCKET; cleared at each start. */
  readonly statusText: string | null;
}

export type ServiceEvent =
  | { readonly type: 'up' }
  | { readonly type: 'down' }
  | { readonly type: 'once' }
  /** s6-svc -r: stop it with its down signal and start it again. */
  | { readonly type: 'restart' }
  /** A signal for the running program: a name (`SIGHUP`), or a number (a forwarded real-time signal has no name Node sends by). */
  | { readonly type: 'signal'; readonly signal: string | number }
  | { readonly type: 'spawned'; readonly pid: number }
  | { readonly type: 'spawn-failed'; readonly error: string }
  | { readonly type: 'ready' }
  | { readonly type: 'exited'; readonly status: ExitStatus }
  /** The finish script's launch returned its pid. */
  | { readonly type: 'finish-started'; readonly pid: number }
  /** The finish script ended (or could not be launched: 111). */
  | { readonly type: 'finish-exited'; readonly status: ExitStatus }
  | { readonly type: 'timer'; readonly timer: TimerId }
  /** The check run exited 0. */
  | { readonly type: 'check-passed' }
  /** The check run exited non-zero, was killed, or could not start; `output` is the tail of what it printed. */
  | { readonly type: 'check-failed'; readonly status: ExitStatus; readonly output: string }
  /** NOTIFY_SOCKET `STATUS=…` (`READY=1` comes as `ready`). */
  | { readonly type: 'notify-status'; readonly text: string }
  /** NOTIFY_SOCKET `STOPPING=1`: the program says it is shutting down. */
  | { readonly type: 'notify-stopping' }
  /**
   * Its retirement outlived the stop budget: SIGKILL whatever of it runs, process group and all,
   * before warden forgets it (a service that ignores its down signal must not be left running).
   */
  | { readonly type: 'kill' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

export type Effect =
  | { readonly type: 'spawn' }
  | { readonly type: 'signal'; readonly pid: number; readonly signal: string | number }
  /** SIGKILLs the process group `pid` leads: each service and finish runs in a session of its own. */
  | { readonly type: 'kill-group'; readonly pid: number }
  /** Launches `finish`; its pid comes back as `finish-started`, its end as `finish-exited`. */
  | { readonly type: 'run-finish'; readonly args: readonly [string, string] }
  /** Arms the service's timer `timer` at `at`, replacing the one armed there. */
  | { readonly type: 'set-timer'; readonly timer: TimerId; readonly at: number }
  | { readonly type: 'clear-timer'; readonly timer: TimerId }
  /** Starts the `check` probe; its end comes back as `check-passed` or `check-failed`. */
  | { readonly type: 'run-check' }
  /** Kills the running probe (its process group) and forgets it: no result comes back. */
  | { readonly type: 'stop-check' }
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
    statusText: null,
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
  return { service: { ...service, statusText: null, state: { kind: 'spawning', since: now } }, effects: [{ type: 'spawn' }] };
}

const setTimer = (timer: TimerId, at: number): Effect => ({ type: 'set-timer', timer, at });
const clearTimer = (timer: TimerId): Effect => ({ type: 'clear-timer', timer });

/** Readiness comes from the check only when neither notification-fd nor notify-socket reports it. */
function readyByCheck(spec: ServiceSpec): boolean {
  return spec.check !== null && spec.notificationFd === null && !spec.notifySocket;
}

/** Starts a check run now: the probe, its effects, and its timeout on the check timer. */
function runProbe(spec: ServiceSpec, failures: number, now: number): { probe: Probe; effects: Effect[] } {
  const timeoutMs = spec.check?.timeoutMs ?? 0;
  const effects: Effect[] = [{ type: 'run-check' }];
  if (timeoutMs > 0) effects.push(setTimer('check', now + timeoutMs));
  return { probe: { kind: 'running', failures, since: now }, effects };
}

/** The probe goes idle until the next run, `check-interval` from now. */
function idleProbe(spec: ServiceSpec, failures: number, now: number): { probe: Probe; effects: Effect[] } {
  return { probe: { kind: 'idle', failures }, effects: [setTimer('check', now + (spec.check?.intervalMs ?? 0))] };
}

/** Ends the probe of a process that stops running: no timer left, no run left behind. */
function endProbe(probe: Probe | null): Effect[] {
  if (probe === null) return [];
  return probe.kind === 'running' ? [clearTimer('check'), { type: 'stop-check' }] : [clearTimer('check')];
}

type Running = Extract<ServiceState, { kind: 'starting' | 'up' }>;
type Stopping = Extract<ServiceState, { kind: 'stopping' }>;
type Finishing = Extract<ServiceState, { kind: 'finishing' }>;

const withProbe = (state: Running, probe: Probe): Running => ({ ...state, probe });

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
  if (timeoutKillMs > 0 && downSignal !== 'SIGKILL') effects.push(setTimer('main', now + timeoutKillMs));
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

/**
 * After a death (and its finish script): restart now, back off, go down, or halt. `permanent`:
 * finish exited 125, so no restart whatever the policy; an `on-exit halt` service still halts,
 * as it does after a `once` run that ended by itself: it was not asked to stop.
 */
function afterDeath(service: Service, status: ExitStatus, requested: boolean, now: number, permanent: boolean, launchFailed: boolean): Step {
  const down = (reason: DownReason, goal: Goal, effects: Effect[] = []): Step => ({
    service: { ...service, goal, state: { kind: 'down', since: now, reason } },
    effects,
  });
  const { onExit, restart } = service.spec;
  const gone = permanent ? [log('error', 'permanent-failure', { reason: 'finish exited 125' })] : [];
  if (onExit === 'halt' && !requested && service.goal !== 'down') {
    const code = exitCodeOf(status);
    return down(permanent ? 'permanent-failure' : 'exited', 'down', [...gone, log('warn', 'halt', { code }), { type: 'halt', code }]);
  }
  if (permanent) return down('permanent-failure', 'down', gone);
  if (service.goal !== 'up') return down(requested ? 'wanted' : 'exited', 'down');
  if (requested) return respawn(service, now);
  if (restart === 'never' || (restart === 'on-failure' && isSuccess(status))) return down('exited', 'down');

  const lastDeath = service.deaths.at(-1)?.at ?? now;
  const until = Math.max(lastDeath + restartDelayMs(service.streak, service.spec.restartDelay), launchFailed ? now + LAUNCH_FAILED_DELAY_MS : now);
  // Every restart goes through the timer, even one due now: a launch that fails at once reports
  // it in the same turn, and restarting it there would loop inside one event-loop turn for ever.
  const delayMs = Math.round(until - now);
  return {
    service: { ...service, state: { kind: 'backoff', until } },
    effects: [...(delayMs > 0 ? [log('info', 'backoff', { delayMs, deaths: service.streak })] : []), setTimer('main', until)],
  };
}

function respawn(service: Service, now: number): Step {
  return spawn({ ...service, restarts: service.restarts + 1 }, now);
}

/** A death of the running program (or its launch, `launchFailed`): record it, then run `finish` or decide at once. */
function died(service: Service, status: ExitStatus, since: number, requested: boolean, now: number, launchFailed = false): Step {
  const recorded = recordDeath(service, status, since, requested, now);
  const { finish, timeoutFinishMs } = service.spec;
  if (finish === null) {
    const next = afterDeath(recorded.service, status, requested, now, false, launchFailed);
    return { service: next.service, effects: [...recorded.effects, ...next.effects] };
  }
  const effects: Effect[] = [...recorded.effects, { type: 'run-finish', args: finishArgs(status) }];
  if (timeoutFinishMs > 0) effects.push(setTimer('main', now + timeoutFinishMs));
  else effects.push(clearTimer('main'));
  return {
    service: { ...recorded.service, state: { kind: 'finishing', finisher: { kind: 'launching' }, status, requested, killed: false, launchFailed } },
    effects,
  };
}

/** starting → up, with the `ready` log line (how long readiness took). */
function becomeReady(service: Service, state: Running, probe: Probe | null, effects: readonly Effect[], now: number): Step {
  return {
    service: { ...service, state: { kind: 'up', pid: state.pid, since: state.since, readyAt: now, probe } },
    effects: [log('info', 'ready', { pid: state.pid, afterMs: Math.round(now - state.since) }), ...effects],
  };
}

/** The check timer: start the next run, or kill a run that outlived `check-timeout` (a failure). */
function probeTimer(service: Service, state: Running, probe: Probe, now: number): Step {
  if (probe.kind === 'idle') {
    const run = runProbe(service.spec, probe.failures, now);
    return { service: { ...service, state: withProbe(state, run.probe) }, effects: run.effects };
  }
  const afterMs = Math.round(now - probe.since);
  return probeFailed(service, state, probe, { timedOut: true, afterMs }, [{ type: 'stop-check' }], now);
}

function probePassed(service: Service, state: Running, probe: Probe, now: number): Step {
  const idle = idleProbe(service.spec, 0, now);
  if (state.kind === 'starting' && readyByCheck(service.spec)) return becomeReady(service, state, idle.probe, idle.effects, now);
  const effects = probe.failures > 0 ? [log('info', 'check-recovered', { failures: probe.failures }), ...idle.effects] : idle.effects;
  return { service: { ...service, state: withProbe(state, idle.probe) }, effects };
}

/**
 * A failed run. Before the service is ready, failures are expected (it is still booting) and do
 * not count; once it is up, `check-retries` failures in a row restart it, as `warden restart`
 * would: down signal, kill timeout, finish, then a fresh start.
 */
function probeFailed(service: Service, state: Running, probe: Probe, detail: LogFields, first: readonly Effect[], now: number): Step {
  const { spec } = service;
  if (state.kind === 'starting') {
    const idle = idleProbe(spec, 0, now);
    return {
      service: { ...service, state: withProbe(state, idle.probe) },
      effects: [...first, log('debug', 'check-not-ready', detail), ...idle.effects],
    };
  }
  const failures = probe.failures + 1;
  const retries = spec.check?.retries ?? 1;
  if (failures < retries) {
    const idle = idleProbe(spec, failures, now);
    return {
      service: { ...service, state: withProbe(state, idle.probe) },
      effects: [...first, log('warn', 'check-failure', { ...detail, failures, retries }), ...idle.effects],
    };
  }
  // The run's timeout may still be armed on the check timer: nothing runs on it any more.
  const stopped = stop(service, state.pid, state.since, now);
  return {
    service: stopped.service,
    effects: [...first, clearTimer('check'), log('error', 'check-failed', { ...detail, failures }), ...stopped.effects],
  };
}

/**
 * The transition table: for each state, what each event does. Each row is a switch over every
 * event with no default, so a new event does not compile until every state says what it does.
 */
export function step(service: Service, event: ServiceEvent, now: number): Step {
  const state = service.state;
  switch (state.kind) {
    case 'down':
      return inDown(service, event, now);
    case 'spawning':
      return inSpawning(service, event, now);
    case 'starting':
    case 'up':
      return inRunning(service, state, event, now);
    case 'stopping':
      return inStopping(service, state, event, now);
    case 'finishing':
      return inFinishing(service, state, event, now);
    case 'backoff':
      return inBackoff(service, event, now);
    default:
      return unreachable(state);
  }
}

function unreachable(value: never): never {
  return value;
}

const nothing = (service: Service): Step => ({ service, effects: [] });

function inDown(service: Service, event: ServiceEvent, now: number): Step {
  switch (event.type) {
    case 'up':
    case 'once':
      return spawn({ ...service, goal: event.type, streak: 0, crashLoop: false }, now);
    case 'down':
      return withGoal(service, 'down');
    case 'restart':
    case 'signal':
      return { service, effects: [log('info', 'not-running', { command: event.type })] };
    case 'kill':
      return nothing(service);
    case 'spawned':
    case 'spawn-failed':
    case 'ready':
    case 'exited':
    case 'finish-started':
    case 'finish-exited':
    case 'timer':
    case 'check-passed':
    case 'check-failed':
    case 'notify-status':
    case 'notify-stopping':
      return illegal(service, event);
    default:
      return unreachable(event);
  }
}

function inSpawning(service: Service, event: ServiceEvent, now: number): Step {
  switch (event.type) {
    case 'spawned': {
      const started = log('info', 'started', { pid: event.pid, restarts: service.restarts });
      if (service.goal === 'down') {
        const stopped = stop(service, event.pid, now, now);
        return { service: stopped.service, effects: [started, ...stopped.effects] };
      }
      const { spec } = service;
      const first = spec.check === null ? null : runProbe(spec, 0, now);
      const probe = first?.probe ?? null;
      const waits = spec.notificationFd !== null || spec.notifySocket || spec.check !== null;
      const next: ServiceState = waits
        ? { kind: 'starting', pid: event.pid, since: now, probe }
        : { kind: 'up', pid: event.pid, since: now, readyAt: now, probe };
      return { service: { ...service, state: next }, effects: [started, ...(first?.effects ?? [])] };
    }
    case 'spawn-failed': {
      // A program that cannot start is a quick death like any other: it backs off.
      const failed = log('error', 'spawn-failed', { error: event.error });
      const next = died(service, LAUNCH_FAILED, now, false, now, true);
      return { service: next.service, effects: [failed, ...next.effects] };
    }
    // No process can take a command yet: the goal changes for when one can.
    case 'up':
    case 'down':
    case 'once':
      return withGoal(service, event.type);
    // Nothing runs yet to restart, signal or kill: the launch reports at once, in this turn.
    case 'restart':
    case 'signal':
    case 'kill':
      return nothing(service);
    case 'ready':
    case 'exited':
    case 'finish-started':
    case 'finish-exited':
    case 'timer':
    case 'check-passed':
    case 'check-failed':
    case 'notify-status':
    case 'notify-stopping':
      return illegal(service, event);
    default:
      return unreachable(event);
  }
}

function inRunning(service: Service, state: Running, event: ServiceEvent, now: number): Step {
  switch (event.type) {
    case 'up':
    case 'once':
      return withGoal(service, event.type);
    case 'down':
    case 'restart': {
      const stopped = stop(event.type === 'down' ? { ...service, goal: 'down' } : service, state.pid, state.since, now);
      return { service: stopped.service, effects: [...endProbe(state.probe), ...stopped.effects] };
    }
    case 'signal':
    case 'notify-status':
    case 'notify-stopping':
    case 'kill':
      return fromProcess(service, state.pid, event);
    case 'ready':
      if (state.kind === 'up') return nothing(service);
      return becomeReady(service, state, state.probe, [], now);
    case 'exited': {
      const next = died(service, event.status, state.since, false, now);
      return { service: next.service, effects: [...endProbe(state.probe), ...next.effects] };
    }
    case 'timer':
      if (event.timer !== 'check' || state.probe === null) return illegal(service, event);
      return probeTimer(service, state, state.probe, now);
    case 'check-passed':
      if (state.probe?.kind !== 'running') return illegal(service, event);
      return probePassed(service, state, state.probe, now);
    case 'check-failed':
      if (state.probe?.kind !== 'running') return illegal(service, event);
      return probeFailed(service, state, state.probe, { ...statusFields(event.status), output: event.output }, [], now);
    case 'spawned':
    case 'spawn-failed':
    case 'finish-started':
    case 'finish-exited':
      return illegal(service, event);
    default:
      return unreachable(event);
  }
}

/** The rows a running process (starting, up or stopping) shares: what it says, what is sent to it. */
function fromProcess(service: Service, pid: number, event: Extract<ServiceEvent, { type: 'signal' | 'notify-status' | 'notify-stopping' | 'kill' }>): Step {
  switch (event.type) {
    case 'signal':
      return { service, effects: [{ type: 'signal', pid, signal: event.signal }] };
    case 'notify-status':
      // Kept as the program's `STATUS=` text; logged at debug, since some programs update it often.
      return { service: { ...service, statusText: event.text }, effects: [log('debug', 'status', { text: event.text })] };
    case 'notify-stopping':
      return { service, effects: [log('info', 'notify-stopping', { pid })] };
    case 'kill':
      return { service, effects: [{ type: 'kill-group', pid }] };
    default:
      return unreachable(event);
  }
}

function inStopping(service: Service, state: Stopping, event: ServiceEvent, now: number): Step {
  switch (event.type) {
    case 'exited': {
      const next = died(service, event.status, state.since, true, now);
      // The kill timer is moot once it is dead (finish re-arms its own).
      const timer = next.effects.some((e) => e.type === 'set-timer' && e.timer === 'main') ? [] : [clearTimer('main')];
      return { service: next.service, effects: [...timer, ...next.effects] };
    }
    case 'timer':
      if (event.timer !== 'main') return illegal(service, event);
      if (state.killed) return nothing(service);
      return {
        service: { ...service, state: { ...state, killed: true } },
        effects: [
          log('warn', 'kill-timeout', { pid: state.pid, afterMs: service.spec.timeoutKillMs }),
          { type: 'signal', pid: state.pid, signal: 'SIGKILL' },
        ],
      };
    case 'kill': {
      const killed = fromProcess(service, state.pid, event);
      return { service: { ...service, state: { ...state, killed: true } }, effects: killed.effects };
    }
    case 'up':
    case 'down':
    case 'once':
      return withGoal(service, event.type);
    case 'signal':
    case 'notify-status':
    case 'notify-stopping':
      return fromProcess(service, state.pid, event);
    // Already on its way down (a restart starts it again after), and readiness no longer matters.
    case 'restart':
    case 'ready':
      return nothing(service);
    case 'spawned':
    case 'spawn-failed':
    case 'finish-started':
    case 'finish-exited':
    case 'check-passed':
    case 'check-failed':
      return illegal(service, event);
    default:
      return unreachable(event);
  }
}

function inFinishing(service: Service, state: Finishing, event: ServiceEvent, now: number): Step {
  const killFinish = (): Step => {
    const next: Finishing = { ...state, killed: true };
    // A finish still launching is killed as soon as its pid is known (`finish-started`).
    const effects: Effect[] = state.finisher.kind === 'running' ? [{ type: 'signal', pid: state.finisher.pid, signal: 'SIGKILL' }] : [];
    return { service: { ...service, state: next }, effects };
  };
  switch (event.type) {
    case 'finish-started': {
      if (state.finisher.kind === 'running') return illegal(service, event);
      const next: Finishing = { ...state, finisher: { kind: 'running', pid: event.pid } };
      return { service: { ...service, state: next }, effects: state.killed ? [{ type: 'signal', pid: event.pid, signal: 'SIGKILL' }] : [] };
    }
    case 'finish-exited': {
      const permanent = event.status.kind === 'exited' && event.status.code === 125;
      const next = afterDeath(service, state.status, state.requested, now, permanent, state.launchFailed);
      return { service: next.service, effects: [clearTimer('main'), ...next.effects] };
    }
    case 'timer': {
      if (event.timer !== 'main') return illegal(service, event);
      if (state.killed) return nothing(service);
      const killed = killFinish();
      return { service: killed.service, effects: [log('warn', 'finish-timeout', { afterMs: service.spec.timeoutFinishMs }), ...killed.effects] };
    }
    case 'kill': {
      const killed = killFinish();
      const effects: Effect[] = state.finisher.kind === 'running' ? [{ type: 'kill-group', pid: state.finisher.pid }] : [];
      return { service: killed.service, effects };
    }
    // No process can take a command until finish ends: the goal changes for when one can.
    case 'up':
    case 'down':
    case 'once':
      return withGoal(service, event.type);
    // The program is dead: nothing to restart (it starts after finish) or to signal.
    case 'restart':
    case 'signal':
      return nothing(service);
    case 'spawned':
    case 'spawn-failed':
    case 'ready':
    case 'exited':
    case 'check-passed':
    case 'check-failed':
    case 'notify-status':
    case 'notify-stopping':
      return illegal(service, event);
    default:
      return unreachable(event);
  }
}

function inBackoff(service: Service, event: ServiceEvent, now: number): Step {
  switch (event.type) {
    case 'timer':
      if (event.timer !== 'main') return illegal(service, event);
      return respawn(service, now);
    case 'restart': {
      const next = respawn(service, now);
      return { service: next.service, effects: [clearTimer('main'), ...next.effects] };
    }
    case 'down':
      return {
        service: { ...service, goal: 'down', state: { kind: 'down', since: now, reason: 'wanted' } },
        effects: [clearTimer('main')],
      };
    case 'up':
    case 'once':
      return withGoal(service, event.type);
    // Nothing runs while it waits to restart.
    case 'signal':
    case 'kill':
      return nothing(service);
    case 'spawned':
    case 'spawn-failed':
    case 'ready':
    case 'exited':
    case 'finish-started':
    case 'finish-exited':
    case 'check-passed':
    case 'check-failed':
    case 'notify-status':
    case 'notify-stopping':
      return illegal(service, event);
    default:
      return unreachable(event);
  }
}
