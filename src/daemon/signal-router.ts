/**
 * Installs a handler for every catchable signal, from the one signal table (core/signal-table),
 * and routes each delivery: stop, power off, rescan, or forward to CMD and the services that
 * asked. warden must never die of a signal it was sent, as PID 1 or as a sub-init.
 */
import type { Logger } from '../adapters/logger.js';
import { listenTo } from '../adapters/signal-listeners.js';
import { armOneShot, blockInThisThread, ignoreLibcSignal } from '../adapters/signal-native.js';
import type { HupAction } from '../config/boot-settings.js';
import { SIGNAL_TABLE, type SignalEntry } from '../core/signal-table.js';


export interface SignalRoutes {
  readonly logger: Logger;
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
export function routeSignals(routes: SignalRoutes): void {
  for (const entry of SIGNAL_TABLE) {
    const handler = handlerFor(entry, routes);
    if (handler === null || entry.role === 'fault') continue;
    const error = listenTo(entry.number, entry.name, handler);
    if (error !== null) routes.logger.warn({ event: 'signal-unhandled', signal: entry.name, error }, 'cannot handle this signal');
  }
}

let nativeArmed = false;

/**
 * The part that needs koffi, done once: fault signals get a one-shot handler (re-armed after each
 * delivery), SIGTTIN/SIGTTOU are blocked in the main thread (warden's own terminal writes and
 * tcsetpgrp then never stop it), and glibc's signal 32 is ignored. As a sub-init this runs at
 * boot; as PID 1 (where the kernel drops what has no handler) when CMD starts.
 */
export function armNativeSignals(routes: SignalRoutes): void {
  if (nativeArmed) return;
  nativeArmed = true;
  const { logger } = routes;
  try {
    blockInThisThread([SIGTTIN, SIGTTOU]);
  } catch (err) {
    logger.warn({ event: 'signal-unhandled', signal: 'SIGTTIN,SIGTTOU', err }, 'cannot block terminal signals in the main thread');
  }
  for (const entry of SIGNAL_TABLE) {
    if (entry.role === 'libc-ignored' && !safe(() => ignoreLibcSignal(entry.number))) {
      logger.warn({ event: 'signal-unhandled', signal: entry.name }, 'cannot ignore this signal');
    }
    if (entry.role !== 'fault') continue;
    const handler = handlerFor(entry, routes)!;
    const rearm = (): boolean => (armOneShot(entry.number), true);
    const rearming = (): void => {
      safe(rearm);
      handler();
    };
    const error = listenTo(entry.number, entry.name, rearming);
    if (error !== null || !safe(rearm)) {
      logger.warn({ event: 'signal-unhandled', signal: entry.name, error }, 'cannot handle this signal');
    }
  }
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
