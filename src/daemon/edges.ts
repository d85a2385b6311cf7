/**
 * What the Supervisor and the unit set do to the world outside their own state, as one object:
 * the clock, the timers, starting programs, sending signals, the filesystem and /proc they ask
 * about, the NOTIFY_SOCKETs, and warden's environment read once. Init's own ports extend it
 * (init-edges.ts); `cli/boot.ts` builds the real ones (system-edges.ts); the unit tests pass
 * fakes and drive the Supervisor, the unit set and Init in virtual time.
 */
import { existsSync } from 'node:fs';
import { realSchedule, type Clock, type Schedule } from '../adapters/clock.js';
import type { Launcher } from '../adapters/launcher.js';
import { NotifySockets, type NotifySocketSet } from '../adapters/notify-socket.js';
import { readStat, uidOf } from '../adapters/process-tree.js';
import type { SendSignal } from '../adapters/signals.js';
import type { ProcessLookup } from '../core/notify-access.js';

export { realSchedule, type Schedule };

/** Starts programs and says which pids are its own children (the reaper leaves those to Node). */
export type Spawner = Pick<Launcher, 'launch' | 'isManaged'>;

export interface DaemonEdges {
  readonly clock: Clock;
  /** Wall-clock ms, only for what people and s6's tools read (a status's times, s6's stamps): the core never sees it. */
  readonly wallClock: () => number;
  readonly schedule: Schedule;
  readonly launcher: Spawner;
  /** Sends `signal` to `pid` (a negative pid: its process group); false when it is already gone. */
  readonly signal: SendSignal;
  /** Whether a file exists (the shell that sets LISTEN_PID, a service dir to watch). */
  readonly exists: (path: string) => boolean;
  /** What /proc says of a process (its parent, its uid): whether a NOTIFY_SOCKET sender is of the service's tree. */
  readonly processes: ProcessLookup;
  /** Makes the NOTIFY_SOCKETs of the services that have one, in `dir`. */
  readonly notifySockets: (dir: string, onError: (err: unknown) => void) => NotifySocketSet;
  /** warden's environment, read once at boot: what every program it starts inherits. */
  readonly env: Readonly<Record<string, string>>;
}

/** /proc, for the notify senders' checks. */
const procLookup: ProcessLookup = { parentOf: (pid) => readStat(pid)?.ppid ?? null, uidOf };

/** The real edges: `launcher` and `signal` come from the adapters, the environment from `env` (system-edges.ts adds Init's). */
export function systemEdges(parts: { clock: Clock; launcher: Spawner; signal: SendSignal; env: NodeJS.ProcessEnv }): DaemonEdges {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parts.env)) if (value !== undefined) env[key] = value;
  return {
    clock: parts.clock,
    wallClock: Date.now,
    launcher: parts.launcher,
    signal: parts.signal,
    schedule: realSchedule,
    exists: existsSync,
    processes: procLookup,
    notifySockets: (dir, onError) => new NotifySockets(dir, onError),
    env,
  };
}
