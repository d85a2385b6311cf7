/**
 * Starts every program warden runs (services, finish scripts, cont-init.d, CMD) and remembers
 * their pids until Node has reaped them: the orphan reaper must leave those alone, or it would
 * steal exit statuses from libuv.
 *
 * Plain child_process, not execa: execa's per-process bookkeeping (result promise, stream
 * plumbing) cost ~50 KB of RSS per child and 16 MB to load, measured with 1 000 services, and
 * PID 1 needs none of it: it wants the pid, the exit status and the readiness pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import type { ExitStatus } from '../core/exit-status.js';
import type { RunAs } from '../core/service-spec.js';
import { signalNumber } from '../protocol/signal-name.js';

export interface LaunchRequest {
  readonly file: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string>>;
  /** Own session and process group, as s6 gives each service (`setsid`). */
  readonly detached: boolean;
  /** Run as this uid and gid (supplementary groups are dropped); default: as warden. */
  readonly user?: RunAs | null;
  /** The fd on which the program reports readiness with a newline (s6 `notification-fd`). */
  readonly notificationFd?: number | null;
  /** Open fds of warden's handed to the program as its fds 3, 4 … (held listening sockets). */
  readonly passFds?: readonly number[];
  /** 'ignore' (default), 'inherit', or an fd (an s6-rc consumer's end of its pipe). */
  readonly stdin?: 'inherit' | 'ignore' | number;
  /** An fd the program's stdout goes to instead (an s6-rc producer's pipe); stderr is still captured. */
  readonly stdout?: number | null;
  readonly onExit: (status: ExitStatus) => void;
  readonly onReady?: () => void;
  /** Capture stdout and stderr through pipes (else they are the container's own). */
  readonly onOutput?: (stdout: Readable, stderr: Readable) => void;
}

export type LaunchResult = { readonly ok: true; readonly pid: number } | { readonly ok: false; readonly error: string };

export class Launcher {
  private readonly live = new Set<number>();

  /** True while `pid` is a child that Node itself will reap. */
  isManaged = (pid: number): boolean => this.live.has(pid);

  get count(): number {
    return this.live.size;
  }

  launch(req: LaunchRequest): LaunchResult {
    const notifyFd = req.notificationFd ?? null;
    // fds 3 and up: the passed fds, then closed, but for the notification fd's pipe.
    const extra: ('ignore' | 'pipe' | number)[] = [...(req.passFds ?? [])];
    if (notifyFd !== null) for (let fd = 3 + extra.length; fd <= notifyFd; fd++) extra.push(fd === notifyFd ? 'pipe' : 'ignore');
    let child: ChildProcess;
    try {
      child = spawn(req.file, req.args ?? [], {
        cwd: req.cwd,
        env: req.env,
        detached: req.detached,
        ...(req.user ? { uid: req.user.uid, gid: req.user.gid } : {}),
        stdio: [req.stdin ?? 'ignore', req.stdout ?? (req.onOutput ? 'pipe' : 'inherit'), req.onOutput ? 'pipe' : 'inherit', ...extra],
      });
    } catch (err) {
      // Node throws rather than emits for some errors (E2BIG, ETXTBSY, ENOTDIR …): same outcome.
      return { ok: false, error: `cannot run ${req.file}: ${err instanceof Error ? err.message : String(err)}` };
    }
    const pid = child.pid;
    if (pid === undefined) {
      // The reason (ENOENT, EACCES …) comes in an 'error' event; the caller logs the file.
      child.once('error', () => undefined);
      return { ok: false, error: `cannot run ${req.file}: spawn failed (missing, not executable, or a bad interpreter line)` };
    }
    child.on('error', () => undefined);
    this.live.add(pid);
    if (req.onOutput) req.onOutput(child.stdout ?? ended(), child.stderr!);
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      this.live.delete(pid);
      req.onExit(toExitStatus(code, signal));
    });
    const notifyStream: unknown = notifyFd === null ? null : child.stdio[notifyFd];
    if (notifyStream !== null && req.onReady) watchReadiness(notifyStream as Readable, req.onReady);
    return { ok: true, pid };
  }
}

/** A stream with nothing in it: the stdout of a program whose stdout goes into a pipeline. */
function ended(): Readable {
  const stream = new PassThrough();
  stream.end();
  return stream;
}

function toExitStatus(code: number | null, signal: NodeJS.Signals | null): ExitStatus {
  if (signal !== null) return { kind: 'killed', signal: signalNumber(signal) ?? 0 };
  return { kind: 'exited', code: code ?? 0 };
}

/** s6 readiness: the first newline on the notification fd; then the fd is closed. */
function watchReadiness(stream: Readable, onReady: () => void): void {
  const onData = (chunk: Buffer): void => {
    if (!chunk.includes(0x0a)) return;
    stream.off('data', onData);
    stream.destroy();
    onReady();
  };
  stream.on('data', onData);
  stream.on('error', () => undefined);
}
