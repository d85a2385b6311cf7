/**
 * The daemon's edges in virtual time (the clock and timers of ../virtual-time.ts), a launcher whose "processes" are records the test ends
 * (or that react to signals as the test says), a process table the test writes (who is whose
 * parent, as which uid) and NOTIFY_SOCKETs whose datagrams the test sends. Nothing here starts
 * a process, opens a socket or sleeps.
 */
import { pino, type Logger } from 'pino';
import type { LaunchRequest, LaunchResult } from '../../../src/adapters/launcher.js';
import type { NotifyHandler, NotifySender } from '../../../src/adapters/notify-socket.js';
import type { ExitStatus } from '../../../src/core/exit-status.js';
import type { DaemonEdges } from '../../../src/daemon/edges.js';
import { VirtualTime } from '../virtual-time.js';

/** One launched program: what it was asked to run, when, and the signals it got. */
export interface FakeProcess {
  readonly pid: number;
  readonly req: LaunchRequest;
  readonly startedAt: number;
  readonly signals: { readonly at: number; readonly signal: string; readonly group: boolean }[];
  exited: boolean;
}

/** How a process answers a signal: exit with this status, or ignore it (null). */
export type Reaction = (proc: FakeProcess, signal: string) => ExitStatus | null;

/** SIGKILL kills; every other signal kills as its default would, but for SIGCONT. */
export const defaultReaction: Reaction = (_proc, signal) =>
  signal === 'SIGCONT' ? null : { kind: 'killed', signal: signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15 };

/** Dies of SIGKILL only (a service that ignores its down signal). */
export const ignoresTerm: Reaction = (_proc, signal) => (signal === 'SIGKILL' ? { kind: 'killed', signal: 9 } : null);

/** The wall clock's reading at virtual time 0. */
export const WALL_ORIGIN = Date.UTC(2026, 0, 1);

export class VirtualWorld extends VirtualTime {
  private nextPid = 100;
  readonly processes: FakeProcess[] = [];
  /** Per file: how its processes answer signals (default: `defaultReaction`). */
  readonly reactions = new Map<string, Reaction>();
  readonly lines: Record<string, unknown>[] = [];
  /** Processes the test made up, beside the launched ones: pid → its parent and uid. */
  readonly others = new Map<number, { readonly ppid: number; readonly uid: number }>();
  /** The open NOTIFY_SOCKETs, by service name. */
  readonly sockets = new Map<string, NotifyHandler>();
  readonly logger: Logger = pino({ level: 'debug', base: null }, { write: (line: string) => void this.lines.push(JSON.parse(line) as Record<string, unknown>) });

  readonly edges: DaemonEdges = {
    clock: { now: () => this.now },
    wallClock: () => WALL_ORIGIN + this.now,
    schedule: this.schedule,
    launcher: {
      launch: (req: LaunchRequest): LaunchResult => {
        const proc: FakeProcess = { pid: this.nextPid++, req, startedAt: this.now, signals: [], exited: false };
        this.processes.push(proc);
        return { ok: true, pid: proc.pid };
      },
      isManaged: (pid) => this.isLive(pid),
    },
    signal: (pid, signal) => {
      const proc = this.processes.find((p) => p.pid === Math.abs(pid));
      if (proc === undefined || proc.exited) return false;
      proc.signals.push({ at: this.now, signal: String(signal), group: pid < 0 });
      const status = (this.reactions.get(proc.req.file) ?? defaultReaction)(proc, String(signal));
      // A real exit is reported later, by the event loop, never inside kill(2).
      if (status !== null) queueMicrotask(() => this.exit(proc.pid, status));
      return true;
    },
    exists: () => true,
    // A live launched process is warden's child (PID 1), as root; a made-up one is as the test says.
    processes: {
      parentOf: (pid) => this.others.get(pid)?.ppid ?? (this.isLive(pid) ? 1 : null),
      uidOf: (pid) => this.others.get(pid)?.uid ?? (this.isLive(pid) ? 0 : null),
    },
    notifySockets: () => ({
      open: (name, onMessage) => {
        this.sockets.set(name, onMessage);
        return { path: `/virtual/notify/${name}.sock`, close: () => void (this.sockets.get(name) === onMessage && this.sockets.delete(name)) };
      },
      close: () => this.sockets.clear(),
    }),
    env: { PATH: '/usr/bin:/bin' },
  };

  private isLive(pid: number): boolean {
    return this.processes.some((p) => p.pid === pid && !p.exited);
  }

  /** A datagram to `service`'s NOTIFY_SOCKET from `sender` (the kernel's credentials). */
  notify(service: string, text: string, sender: NotifySender): void {
    const onMessage = this.sockets.get(service);
    if (onMessage === undefined) throw new Error(`${service} has no open NOTIFY_SOCKET`);
    onMessage(text, sender);
  }

  /** The processes started from `file`, in order. */
  runsOf(file: string): FakeProcess[] {
    return this.processes.filter((p) => p.req.file === file);
  }

  /** The one live process started from `file`. */
  live(file: string): FakeProcess {
    const live = this.runsOf(file).filter((p) => !p.exited);
    if (live.length !== 1) throw new Error(`${live.length} live processes of ${file}`);
    return live[0]!;
  }

  /** The process ends with `status` now (a second exit of the same process is ignored). */
  exit(pid: number, status: ExitStatus): void {
    const proc = this.processes.find((p) => p.pid === pid);
    if (proc === undefined || proc.exited) return;
    proc.exited = true;
    proc.req.onExit(status);
  }

  /** The log lines whose `event` is `event`. */
  logged(event: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === event);
  }
}
