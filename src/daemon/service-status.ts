/** A service as `warden status` reports it, from its core state (monotonic times made wall-clock). */
import type { ServiceStatus } from '../protocol/service-status.js';
import { signalName } from '../protocol/signal-name.js';
import type { InvalidUnit } from '../config/config-problem.js';
import type { ExitStatus } from '../core/exit-status.js';
import type { Service } from '../core/service-machine.js';
import type { ServiceUsage } from './usage-sampler.js';

function lastExit(status: ExitStatus | undefined): ServiceStatus['lastExit'] {
  if (status === undefined) return null;
  if (status.kind === 'exited') return { code: status.code };
  // A signal without a name (a real-time one) by its number.
  return { signal: signalName(status.signal) ?? `signal ${status.signal}` };
}

/**
 * s6-supervise's two stamps, monotonic: the last up (spawn) or down (death) transition, and
 * readiness (while up: when it became ready; while down: when its finish was done). A down
 * service that never ran went down when warden first saw it.
 */
function stamps(service: Service): { upDown: number | null; ready: number | null } {
  const state = service.state;
  const died = service.deaths.at(-1)?.at ?? null;
  switch (state.kind) {
    case 'starting':
    case 'stopping':
      return { upDown: state.since, ready: null };
    case 'up':
      return { upDown: state.since, ready: state.readyAt };
    case 'down':
      return { upDown: died ?? state.since, ready: state.since };
    case 'spawning':
      return { upDown: died, ready: null };
    case 'finishing':
    case 'backoff':
      // warden does not keep when a backoff's finish ended: no ready stamp rather than a guess.
      return { upDown: died, ready: null };
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

/**
 * When a service in a crash loop that runs now will have run `restart-reset` ms (monotonic), and
 * is reported out of it from then on; null when it is not in one, or not running. The core ends
 * a crash loop only at the next death after such a run: a health probe must not fail for ever on
 * a service that recovered.
 */
export function crashLoopReportEnds(service: Service): number | null {
  const state = service.state;
  return service.crashLoop && 'pid' in state && state.kind !== 'stopping' ? state.since + service.spec.restartResetMs : null;
}

/** In a crash loop now, as reported (crashLoopReportEnds). */
function crashLooping(service: Service, now: number): boolean {
  const ends = crashLoopReportEnds(service);
  return service.crashLoop && (ends === null || now < ends);
}

/** No process: no usage. */
const NO_USAGE = { rssBytes: null, cpuMs: null, cpuPercent: null, processes: null } as const;

/**
 * `now` is the monotonic clock's reading and `wallNow` Date.now() at the same moment; `usage`
 * what its processes use (null when unknown or none runs).
 */
export function serviceStatus(service: Service, now: number, wallNow: number, usage: ServiceUsage | null = null): ServiceStatus {
  const state = service.state;
  const running = 'pid' in state ? state : null;
  const wall = (at: number | null): string | null => (at === null ? null : new Date(wallNow + (at - now)).toISOString());
  const { upDown, ready } = stamps(service);
  return {
    name: service.spec.name,
    state: state.kind,
    goal: service.goal,
    pid: running?.pid ?? null,
    uptimeMs: running ? Math.round(now - running.since) : null,
    upDownSince: wall(upDown),
    ready: state.kind === 'up',
    readySince: wall(ready),
    normallyUp: !service.spec.downAtBoot,
    restarts: service.restarts,
    lastExit: lastExit(service.deaths.at(-1)?.status),
    backoffUntil: state.kind === 'backoff' ? wall(state.until) : null,
    deaths: service.streak,
    crashLoop: crashLooping(service, now),
    downReason: state.kind === 'down' ? state.reason : null,
    statusText: service.statusText,
    ...(running && usage ? usage : NO_USAGE),
    problems: [],
  };
}

/** A service known from its dir but not yet started: it waits for its dependencies. */
export function waitingStatus(name: string, goal: 'up' | 'down'): ServiceStatus {
  return notRunning(name, 'waiting', goal, []);
}

/** A service whose dir warden read but cannot start: `problems` say why. */
export function invalidStatus(unit: InvalidUnit): ServiceStatus {
  return notRunning(unit.name, 'invalid', 'up', unit.problems);
}

function notRunning(name: string, state: 'waiting' | 'invalid', goal: 'up' | 'down', problems: ServiceStatus['problems']): ServiceStatus {
  return {
    name,
    state,
    goal,
    pid: null,
    uptimeMs: null,
    upDownSince: null,
    ready: false,
    readySince: null,
    normallyUp: goal === 'up',
    restarts: 0,
    lastExit: null,
    backoffUntil: null,
    deaths: 0,
    crashLoop: false,
    downReason: null,
    statusText: null,
    ...NO_USAGE,
    problems,
  };
}
