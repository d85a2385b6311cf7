/**
 * Installs a handler for every catchable signal, from the one signal table (core/signal-table),
 * and routes each delivery: stop, power off, rescan, or forward to CMD and the services that
 * asked. warden must never die of a signal it was sent, as PID 1 or as a sub-init.
 */
import type { Clock } from '../adapters/clock.js';
import type { Logger } from '../adapters/logger.js';
import type { HupAction } from '../config/boot-settings.js';
import { SIGNAL_TABLE, type SignalEntry } from '../core/signal-table.js';
import type { SignalSource } from './init-edges.js';


export interface SignalRoutes {
  readonly logger: Logger;
  /** What the fault signals' flood guard counts a second by. */
  readonly clock: Clock;
  readonly hup: HupAction;
  /** Shut down gracefully; `powerOff`: exit 0 whatever CMD's code. */
  stop(signal: string, powerOff: boolean): void;
  rescan(): void;
  /** Passes the signal on; returns who got it (`cmd`, service names). */
  forward(signal: number, name: string): readonly string[];
}

const SIGTTIN = 21;
const SIGTTOU = 22;

/** The part that needs no native code: one listener per catchable signal but the fault ones. */
export function routeSignals(routes: SignalRoutes, source: SignalSource): void {
  for (const entry of SIGNAL_TABLE) {
    const handler = handlerFor(entry, routes);
    if (handler === null || entry.role === 'fault') continue;
    const error = source.listen(entry.number, entry.name, handler);
    if (error !== null) routes.logger.warn({ event: 'signal-unhandled', signal: entry.name, error }, 'cannot handle this signal');
  }
}

/** The sources whose native part is armed: once each (the process's own, once per process). */
const nativeArmed = new WeakSet<SignalSource>();

/**
 * More deliveries of one fault signal than this within a second is not `kill`: it is a thread of
 * warden other than the main one faulting again each time its handler returns. That signal then
 * gets its default action back, so the next fault ends warden with a core dump.
 */
export const FAULT_FLOOD_PER_SECOND = 1000;

/**
 * The part that needs koffi, done once. The fault signals get a permanent handler and are
 * blocked in the main thread: every one sent with `kill` is forwarded however close together they
 * come (another thread takes it), while a real fault in the main thread, where all of warden's
 * code runs, meets a blocked signal, which the kernel turns into its default action: a core dump,
 * not a handler returning to the faulting instruction forever. A real fault in another thread
 * (V8's or libuv's) does loop; the flood guard above ends it. SIGTTIN/SIGTTOU are blocked in the
 * main thread too (warden's own terminal writes and tcsetpgrp then never stop it), and glibc's
 * signal 32 is ignored. As a sub-init this runs at boot; as PID 1 (where the kernel drops what
 * has no handler) when CMD starts.
 */
export function armNativeSignals(routes: SignalRoutes, source: SignalSource): void {
  if (nativeArmed.has(source)) return;
  nativeArmed.add(source);
  const { logger } = routes;
  try {
    source.block([SIGTTIN, SIGTTOU]);
  } catch (err) {
    logger.warn({ event: 'signal-unhandled', signal: 'SIGTTIN,SIGTTOU', err }, 'cannot block terminal signals in the main thread');
  }
  for (const entry of SIGNAL_TABLE) {
    if (entry.role === 'libc-ignored' && !safe(() => source.ignoreLibc(entry.number))) {
      logger.warn({ event: 'signal-unhandled', signal: entry.name }, 'cannot ignore this signal');
    }
    if (entry.role !== 'fault') continue;
    // Without the block a permanent handler would turn warden's own fault into a spin: no handler then.
    const blocked = safe(() => (source.block([entry.number]), true));
    const error = blocked ? source.listen(entry.number, entry.name, floodGuarded(entry, handlerFor(entry, routes)!, routes, source)) : 'cannot block it in the main thread';
    if (error !== null) logger.warn({ event: 'signal-unhandled', signal: entry.name, error }, 'cannot handle this signal');
  }
}

/** `handler`, until FAULT_FLOOD_PER_SECOND deliveries come within a second: then the default action. */
function floodGuarded(entry: SignalEntry, handler: () => void, { logger, clock }: SignalRoutes, source: SignalSource): () => void {
  let windowStart = -Infinity;
  let count = 0;
  return () => {
    const now = clock.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      count = 0;
    }
    count += 1;
    if (count <= FAULT_FLOOD_PER_SECOND) return handler();
    if (count === FAULT_FLOOD_PER_SECOND + 1) {
      logger.fatal({ event: 'fault-flood', signal: entry.name }, `more than ${FAULT_FLOOD_PER_SECOND} ${entry.name} in a second: a thread of warden is faulting; default action restored`);
      safe(() => (source.restoreDefault(entry.number), true));
    }
  };
}

function safe(fn: () => boolean): boolean {
  try {
    return fn();
  } catch {
    return false;
  }
}

function handlerFor(entry: SignalEntry, routes: SignalRoutes): (() => void) | null {
  const { logger } = routes;
  const forward = (): void => {
    const to = routes.forward(entry.number, entry.name);
    logger.info({ event: 'signal', signal: entry.name, forwardedTo: to.join(',') || null }, 'signal');
  };
  switch (entry.role) {
    case 'stop':
      return () => routes.stop(entry.name, false);
    case 'power-off':
      return () => routes.stop(entry.name, true);
    case 'hup':
      return routes.hup === 'forward'
        ? forward
        : () => {
            logger.info({ event: 'signal', signal: entry.name }, 'rescan');
            routes.rescan();
          };
    case 'forward':
    case 'job-control':
    case 'fault':
      return forward;
    case 'reap': // The reaper listens to SIGCHLD itself.
    case 'uncatchable':
    case 'libc-ignored':
    case 'libc-handled':
      return null;
  }
}
