/** A status as the control socket gives it: a running, ready service, with what a test changes. */
import type { ServiceStatus } from '../../../src/protocol/service-status.js';

export function upStatus(over: Partial<ServiceStatus>): ServiceStatus {
  return {
    name: 'svc',
    state: 'up',
    goal: 'up',
    pid: 100,
    uptimeMs: 5000,
    upDownSince: null,
    ready: true,
    readySince: null,
    normallyUp: true,
    restarts: 0,
    lastExit: null,
    backoffUntil: null,
    deaths: 0,
    crashLoop: false,
    downReason: null,
    statusText: null,
    rssBytes: null,
    cpuMs: null,
    cpuPercent: null,
    processes: null,
    problems: [],
    ...over,
  };
}
