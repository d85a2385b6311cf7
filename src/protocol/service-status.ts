/** One service as `status` reports it: a stable API (`warden status --json`). */
import type { DownReason, ServiceState } from '../core/service-machine.js';

/**
 * A service's state on the wire: its core state's kind, or `waiting` (for dependencies) and
 * `invalid` (cannot start: see `problems`) for one not supervised. A client must still expect
 * a state it does not know: a newer warden may report one.
 */
export type StatusState = ServiceState['kind'] | 'waiting' | 'invalid';

export interface ServiceStatus {
  readonly name: string;
  /** down · spawning · starting · up · stopping · finishing · backoff · waiting (for dependencies) · invalid (cannot start: see `problems`) */
  readonly state: StatusState;
  readonly goal: 'up' | 'down' | 'once';
  readonly pid: number | null;
  /** ms since the current process started, or null when none runs. */
  readonly uptimeMs: number | null;
  /** When it last went up (its process started) or down (its process died), ISO 8601; null before its first start. */
  readonly upDownSince: string | null;
  readonly ready: boolean;
  /** While up: when it became ready; while down: when it was down for good (its finish done). ISO 8601, else null. */
  readonly readySince: string | null;
  /** Started at boot: no `down` file (s6-svstat's "normally up"). */
  readonly normallyUp: boolean;
  readonly restarts: number;
  /** The last death: its exit code, or the signal that killed it. */
  readonly lastExit: { readonly code: number } | { readonly signal: string } | null;
  /** When the next start is due (ISO 8601), while in backoff. */
  readonly backoffUntil: string | null;
  /** Quick deaths in a row. */
  readonly deaths: number;
  readonly crashLoop: boolean;
  /** Why it is down: wanted · exited · permanent-failure; null when not down. */
  readonly downReason: DownReason | null;
  /** The last `STATUS=` the service sent over NOTIFY_SOCKET (cleared at each start), or null. */
  readonly statusText: string | null;
  /** Resident memory of its process and every descendant, bytes; null when none runs. */
  readonly rssBytes: number | null;
  /** CPU time (user + system) of its process tree, ms; null when none runs. */
  readonly cpuMs: number | null;
  /** Share of one CPU its tree used since the previous status (or since it started), percent; null when none runs. */
  readonly cpuPercent: number | null;
  /** Processes in its tree; null when none runs. */
  readonly processes: number | null;
  /** Why an `invalid` service cannot start: its files' problems (path, 1-based line or null, what is wrong); empty otherwise. */
  readonly problems: readonly { readonly file: string; readonly line: number | null; readonly message: string }[];
}
