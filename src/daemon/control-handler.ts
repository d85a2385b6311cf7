/** Answers control requests from the running supervisor's state. */
import type { Clock } from '../adapters/clock.js';
import type { RequestHandler } from '../adapters/control-server.js';
import type { InvalidUnit } from '../config/config-problem.js';
import type { Service } from '../core/service-machine.js';
import type { AtomState, Command, RequestLine, RescanResult, ResultOf, WaitCondition } from '../protocol/commands.js';
import type { Reply } from '../protocol/reply.js';
import type { ServiceStatus } from '../protocol/service-status.js';
import { invalidStatus, serviceStatus, waitingStatus } from './service-status.js';
import type { UsageSampler } from './usage-sampler.js';
import type { Supervisor } from './supervisor.js';

export interface ControlContext {
  readonly supervisor: Supervisor;
  readonly clock: Clock;
  /** Wall-clock ms: a status's times are told in it. */
  readonly wallClock: () => number;
  /** Services known from their dirs but still waiting for dependencies. */
  readonly waiting: () => readonly string[];
  /** Services warden read but cannot start (bad files, a dependency that cannot start). */
  readonly invalid: () => ReadonlyMap<string, InvalidUnit>;
  /** What a running service's processes use (memory, CPU); none when absent. */
  readonly usage?: Pick<UsageSampler, 'sample' | 'keepOnly'>;
  readonly halt: (code: number) => void;
  readonly reload: () => Promise<RescanResult>;
  readonly stopping: () => boolean;
  /** The unit set's atoms and their states (s6-rc's view). */
  readonly units: () => readonly AtomState[];
  /** Names (bundles stand for their members) as atoms, or the first name that is not defined. */
  readonly atomsOf: (names: readonly string[]) => { ok: true; atoms: string[] } | { ok: false; unknown: string };
  /** s6-rc's change; resolves with the atoms that did not get there. */
  readonly change: (direction: 'up' | 'down', atoms: readonly string[], timeoutMs: number) => Promise<readonly AtomState[]>;
}

const satisfied: Record<WaitCondition, (s: Service) => boolean> = {
  up: (s) => s.state.kind === 'up' || s.state.kind === 'starting',
  ready: (s) => s.state.kind === 'up',
  down: (s) => s.state.kind === 'down',
};

/** A command's reply with its result, of the type the protocol says `cmd` answers. */
function answer<C extends Command>(_cmd: C, result: ResultOf<C>): Reply {
  return { ok: true, result };
}

/** Unknown names an error lists before saying how many more there were. */
const MAX_NAMED_UNKNOWN = 10;

/** What statuses are made of: the supervised services, and those known from their dirs only. */
export type StatusSources = Pick<ControlContext, 'supervisor' | 'clock' | 'wallClock' | 'waiting' | 'invalid' | 'usage'>;

/** The status of each of `names` (each one known), with its processes' usage when `ctx` samples it. */
export function statusesOf(ctx: StatusSources, names: readonly string[]): ServiceStatus[] {
  const now = ctx.clock.now();
  const wall = ctx.wallClock();
  const invalid = ctx.invalid();
  return names.map((name) => {
    const service = ctx.supervisor.get(name);
    if (service) {
      const state = service.state;
      const usage = 'pid' in state && ctx.usage ? ctx.usage.sample(name, state.pid, now, now - state.since) : null;
      return serviceStatus(service, now, wall, usage);
    }
    const unit = invalid.get(name);
    return unit ? invalidStatus(unit) : waitingStatus(name, 'up');
  });
}

/** Every service known, sorted. A service being stopped after its dir turned invalid is still the supervisor's: listed once. */
export function allNames(ctx: StatusSources): string[] {
  return [...new Set([...ctx.supervisor.list().map((s) => s.spec.name), ...ctx.waiting(), ...ctx.invalid().keys()])].sort();
}

export function controlHandler(ctx: ControlContext): RequestHandler {
  const statuses = (names: readonly string[]): ServiceStatus[] => statusesOf(ctx, names);
  /** The named services, or an error naming the unknown ones and listing the known. */
  const resolve = (names: readonly string[]): { ok: true; names: readonly string[] } | { ok: false; result: Reply } => {
    const known = allNames(ctx);
    const knownSet = new Set(known);
    // Each name once: a request naming one service 15 000 times must not get 15 000 answers.
    const unique = [...new Set(names)];
    const unknown = unique.filter((n) => !knownSet.has(n));
    if (unknown.length === 0) return { ok: true, names: unique.length > 0 ? unique : known };
    const shown = unknown.slice(0, MAX_NAMED_UNKNOWN).join(', ');
    const more = unknown.length > MAX_NAMED_UNKNOWN ? ` and ${unknown.length - MAX_NAMED_UNKNOWN} more` : '';
    return {
      ok: false,
      result: {
        ok: false,
        error: { code: 'unknown-service', message: `no service named ${shown}${more}`, known },
      },
    };
  };
  const notWaiting = (names: readonly string[]): Reply | null => {
    const blocked = names.filter((n) => ctx.supervisor.get(n) === undefined);
    if (blocked.length === 0) return null;
    const invalid = ctx.invalid();
    const why = (n: string): string => (invalid.has(n) ? `${n}: invalid, cannot start (warden status ${n} says why)` : `${n}: still waiting for dependencies`);
    return { ok: false, error: { code: 'bad-request', message: blocked.map(why).join('; ') } };
  };

  return async (request: RequestLine, cancel?: AbortSignal): Promise<Reply> => {
    switch (request.cmd) {
      case 'status': {
        const found = resolve(request.services);
        if (!found.ok) return found.result;
        // Every service asked for: the samples of services that are gone can go.
        if (request.services.length === 0) ctx.usage?.keepOnly(new Set(found.names));
        return answer(request.cmd, statuses(found.names));
      }
      case 'up':
      case 'down':
      case 'restart':
      case 'once':
      case 'signal': {
        if (ctx.stopping()) return { ok: false, error: { code: 'shutting-down', message: 'warden is shutting down' } };
        const found = resolve(request.services);
        if (!found.ok) return found.result;
        const blocked = notWaiting(found.names);
        if (blocked) return blocked;
        if (request.cmd === 'signal') {
          for (const name of found.names) ctx.supervisor.send(name, { type: 'signal', signal: request.signal });
        } else {
          for (const name of found.names) ctx.supervisor.send(name, { type: request.cmd });
        }
        return answer(request.cmd, statuses(found.names));
      }
      case 'wait': {
        const found = resolve(request.services);
        if (!found.ok) return found.result;
        const meets = (n: string): boolean => {
          const s = ctx.supervisor.get(n);
          return s !== undefined && satisfied[request.condition](s);
        };
        const holds = (): boolean => (request.any ? found.names.some(meets) : found.names.every(meets));
        const met = await ctx.supervisor.waitUntil(holds, request.timeoutMs === 0 ? Infinity : request.timeoutMs, cancel);
        if (met) return answer(request.cmd, statuses(found.names));
        const which = request.any ? `none of ${found.names.join(', ')}` : found.names.filter((n) => !meets(n)).join(', ');
        return {
          ok: false,
          error: { code: 'timeout', message: `not ${request.condition} after ${request.timeoutMs} ms: ${which}` },
        };
      }
      case 'halt':
        // Answer first: the shutdown closes this socket.
        setImmediate(() => ctx.halt(request.code));
        return answer(request.cmd, { halting: true, code: request.code });
      case 'reload':
        return answer(request.cmd, await ctx.reload());
      case 'units':
        return answer(request.cmd, ctx.units());
      case 'change': {
        if (ctx.stopping()) return { ok: false, error: { code: 'shutting-down', message: 'warden is shutting down' } };
        const found = ctx.atomsOf(request.services);
        if (!found.ok) return { ok: false, error: { code: 'unknown-service', message: `no unit named ${found.unknown}`, known: ctx.units().map((a) => a.name) } };
        const failed = await ctx.change(request.direction, found.atoms, request.timeoutMs === 0 ? Infinity : request.timeoutMs);
        return answer(request.cmd, { atoms: found.atoms, failed });
      }
      default: {
        const unreachable: never = request;
        return unreachable;
      }
    }
  };
}
