/**
 * One run of a service's `check` probe, through the launcher (so the reaper leaves it alone):
 * its exit status and the tail of what it printed. The output is kept only for the log line of
 * a failure, not written to the service's log: a probe every few seconds would drown it.
 */
import type { Readable } from 'node:stream';
import type { ExitStatus } from '../core/exit-status.js';
import type { RunAs } from '../core/service-spec.js';
import type { Schedule } from './clock.js';
import type { Launcher } from './launcher.js';
import type { SendSignal } from './signals.js';

/** Bytes of output kept for the `check-failed` log line. */
export const OUTPUT_TAIL_BYTES = 400;
/** After the probe exits, how long its pipes may stay open (a background child holding them). */
const DRAIN_MS = 100;

export interface CheckRequest {
  readonly file: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user?: RunAs | null;
}

export interface CheckResult {
  readonly status: ExitStatus;
  /** The last OUTPUT_TAIL_BYTES of stdout and stderr together, trimmed. */
  readonly output: string;
}

export interface CheckRun {
  readonly pid: number;
  /** Kills the probe's process group; `onDone` is then never called. */
  stop(): void;
}

export type CheckStart = { readonly ok: true; readonly run: CheckRun } | { readonly ok: false; readonly error: string };

/** What a probe needs of the world: the daemon's launcher, signals and timers (virtual in the unit tests). */
export interface CheckEdges {
  readonly launcher: Pick<Launcher, 'launch'>;
  readonly signal: SendSignal;
  readonly schedule: Schedule;
}

/** Starts `check` in its own session, stdin /dev/null; `onDone` gets its result once it has exited. */
export function runCheck(edges: CheckEdges, req: CheckRequest, onDone: (result: CheckResult) => void): CheckStart {
  let tail = Buffer.alloc(0);
  let stopped = false;
  const streams: Readable[] = [];
  const keep = (chunk: Buffer): void => {
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > OUTPUT_TAIL_BYTES) tail = tail.subarray(tail.length - OUTPUT_TAIL_BYTES);
  };
  const result = edges.launcher.launch({
    file: req.file,
    cwd: req.cwd,
    env: req.env,
    detached: true,
    user: req.user ?? null,
    onOutput: (stdout, stderr) => {
      for (const stream of [stdout, stderr]) {
        streams.push(stream);
        stream.on('data', keep);
        stream.on('error', () => undefined);
      }
    },
    onExit: (status) => {
      // 'exit' can come before the last output: wait briefly for the pipes to close.
      void drained(edges.schedule, streams, DRAIN_MS).then(() => {
        for (const s of streams) s.destroy();
        if (!stopped) onDone({ status, output: tail.toString('utf8').trim() });
      });
    },
  });
  if (!result.ok) return { ok: false, error: result.error };
  const pid = result.pid;
  return {
    ok: true,
    run: {
      pid,
      stop: () => {
        if (stopped) return;
        stopped = true;
        // Its own process group (detached): a `curl` it started goes with it.
        try {
          edges.signal(-pid, 'SIGKILL');
        } catch {
          edges.signal(pid, 'SIGKILL');
        }
      },
    },
  };
}

function drained(schedule: Schedule, streams: readonly Readable[], maxMs: number): Promise<void> {
  const open = streams.filter((s) => !s.closed);
  if (open.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let left = open.length;
    const cancel = schedule(maxMs, resolve);
    for (const s of open) {
      s.once('close', () => {
        if (--left === 0) {
          cancel();
          resolve();
        }
      });
    }
  });
}
