/** A service as `warden status` reports it, from its core state (monotonic times made wall-clock). */
import { constants } from 'node:os';
import type { ServiceStatus } from '../adapters/control-protocol.js';
import type { ExitStatus } from '../core/exit-status.js';
import type { Service } from '../core/service-machine.js';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, num]) => [num, name]));

export function signalName(signal: number): string {
  return SIGNAL_NAMES.get(signal) ?? `signal ${signal}`;
}

function lastExit(status: ExitStatus | undefined): ServiceStatus['lastExit'] {
  if (status === undefined) return null;
  return status.kind === 'exited' ? { code: status.code } : { signal: signalName(status.signal) };
}

/** `now` is the monotonic clock's reading and `wallNow` Date.now() at the same moment. */
export function serviceStatus(service: Service, now: number, wallNow: number): ServiceStatus {
  const state = service.state;
  const running = 'pid' in state ? state : null;
  return {
    name: service.spec.name,
    state: state.kind,
    goal: service.goal,
    pid: running?.pid ?? null,
    uptimeMs: running ? Math.round(now - running.since) : null,
    ready: state.kind === 'up',
    restarts: service.restarts,
    lastExit: lastExit(service.deaths.at(-1)?.status),
    backoffUntil: state.kind === 'backoff' ? new Date(wallNow + (state.until - now)).toISOString() : null,
    deaths: service.streak,
    crashLoop: service.crashLoop,
    downReason: state.kind === 'down' ? state.reason : null,
    statusText: service.statusText,
  };
}

/** A service known from its dir but not yet started: it waits for its dependencies. */
export function waitingStatus(name: string, goal: 'up' | 'down'): ServiceStatus {
  return {
    name,
    state: 'waiting',
    goal,
    pid: null,
    uptimeMs: null,
    ready: false,
    restarts: 0,
    lastExit: null,
    backoffUntil: null,
    deaths: 0,
    crashLoop: false,
    downReason: null,
    statusText: null,
  };
}
