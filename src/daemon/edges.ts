/**
 * Everything the daemon does to the world outside its own state, as one object: the clock, the
 * timers, starting programs, sending signals, the filesystem it asks about, and warden's
 * environment read once. `cli/boot.ts` builds the real one (`systemEdges`); the unit tests pass
 * fakes and drive the Supervisor, the unit set and Init in virtual time.
 */
import { existsSync } from 'node:fs';
import type { Clock } from '../adapters/clock.js';
import type { Launcher } from '../adapters/launcher.js';

/** Calls `fire` once, `ms` from now; returns what cancels it (a no-op once it fired). */
export type Schedule = (ms: number, fire: () => void) => () => void;

/** Starts programs and says which pids are its own children (the reaper leaves those to Node). */
export type Spawner = Pick<Launcher, 'launch' | 'isManaged'>;

export interface DaemonEdges {
  readonly clock: Clock;
  readonly schedule: Schedule;
  readonly launcher: Spawner;
  /** Sends `signal` to `pid` (a negative pid: its process group); false when it is already gone. */
  readonly signal: (pid: number, signal: string | number) => boolean;
  /** Whether a file exists (the shell that sets LISTEN_PID, a service dir to watch). */
  readonly exists: (path: string) => boolean;
  /** warden's environment, read once at boot: what every program it starts inherits. */
  readonly env: Readonly<Record<string, string>>;
}

/** Node's timers. */
export const realSchedule: Schedule = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
};

/** The real edges: `launcher` and `signal` come from the adapters, the environment from `env`. */
export function systemEdges(parts: { clock: Clock; launcher: Spawner; signal: DaemonEdges['signal']; env: NodeJS.ProcessEnv }): DaemonEdges {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parts.env)) if (value !== undefined) env[key] = value;
  return { clock: parts.clock, launcher: parts.launcher, signal: parts.signal, schedule: realSchedule, exists: existsSync, env };
}
