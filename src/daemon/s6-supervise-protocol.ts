/**
 * s6-supervise's on-disk protocol for every longrun warden supervises, so s6's own tools
 * (s6-svc, s6-svstat, s6-svwait, s6-svok, s6-svdt) work on its services unchanged: at
 * `BASE/NAME/` the `supervise/` dir (lock, control FIFO, status, death_tally) and the `event/`
 * fifodir. BASE is /run/service under s6-overlay's runtime, else warden's runtime dir; never the
 * image's own service dir, which may be read-only. The status and events are computed by
 * core/s6-svstatus from each new service state; a letter read from the control FIFO becomes the
 * control socket's request and goes through its handler, as `warden down NAME` would.
 */
import { join } from 'node:path';
import type { Logger } from '../adapters/logger.js';
import { PROTOCOL_VERSION, type Request, type RequestLine } from '../protocol/commands.js';
import type { Reply } from '../protocol/reply.js';
import { SuperviseDir } from '../adapters/s6-supervise-dir.js';
import { svControlAction } from '../core/s6-control.js';
import { initialSvStatus, isUp, nextSvStatus, packDeathTally, packSvStatus, type SvStatus, type TallyEntry } from '../core/s6-svstatus.js';
import type { Death, Service } from '../core/service-machine.js';
import type { SupervisorObserver } from './supervisor.js';

export interface S6ProtocolOptions {
  /** Where the service dirs go: /run/service, or RUNDIR/service. */
  readonly base: string;
  readonly logger: Logger;
  /** The control socket's handler: commands from the FIFO take its path. */
  readonly request: (request: RequestLine) => Promise<Reply>;
  /** Wall-clock ms: s6's stamps are wall-clock. */
  readonly wallClock: () => number;
}

interface Supervised {
  readonly dir: SuperviseDir;
  status: SvStatus;
  lastDeath: Death | undefined;
  readonly tally: TallyEntry[];
  maxTally: number;
}

export class S6SuperviseProtocol implements SupervisorObserver {
  private readonly supervised = new Map<string, Supervised>();
  /**
   * Services taken in whose files are made on the next turn (added): their status is kept from
   * each transition meanwhile, so its stamps are the transitions' times, not the file's making
   * (on a loaded machine that turn may come long after the start), and its events are told then.
   */
  private readonly pending = new Map<string, { readonly service: Service; readonly status: SvStatus; readonly events: string }>();
  /** Services whose dir could not be made: said once each, not at every event. */
  private readonly failed = new Set<string>();
  private readonly wall: () => number;

  constructor(private readonly opts: S6ProtocolOptions) {
    this.wall = opts.wallClock;
  }

  /** The dir s6's tools are pointed at for `name`. */
  dirOf(name: string): string {
    return join(this.opts.base, name);
  }

  /**
   * Opens the service's files on the next turn of the event loop, not now: the first spawns go
   * out before koffi (for the lock and the FIFO) loads, and the status then written is the
   * service's latest, stamped when each change happened (a start already made is told as `s`
   * then `u`, up since the start).
   */
  added(service: Service): void {
    const first = initialSvStatus(service, this.wall());
    this.pending.set(service.spec.name, { service, ...first });
    if (this.pending.size === 1) setImmediate(() => this.openPending());
  }

  private openPending(): void {
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const { service, status, events } of batch) this.open(service, status, events);
  }

  private open(service: Service, status: SvStatus, events: string): void {
    const { name } = service.spec;
    this.guard(name, 'open', () => {
      const dir = SuperviseDir.open(this.dirOf(name), (bytes) => this.control(name, bytes));
      try {
        // s6-svstat's "normally up" and s6-svc -wU's check read these of the service dir.
        dir.setFile('down', service.spec.downAtBoot ? '' : null);
        dir.setFile('notification-fd', service.spec.notificationFd === null ? null : `${service.spec.notificationFd}\n`);
        const entry: Supervised = { dir, status, lastDeath: service.deaths.at(-1), tally: [], maxTally: service.spec.maxDeathTally };
        this.supervised.set(name, entry);
        dir.writeStatus(packSvStatus(status));
        dir.notify(events);
      } catch (err) {
        dir.close();
        throw err;
      }
      this.failed.delete(name);
    });
  }

  stepped(service: Service): void {
    const pending = this.pending.get(service.spec.name);
    if (pending !== undefined) {
      const next = nextSvStatus(pending.status, service, this.wall());
      this.pending.set(service.spec.name, { service, status: next.status, events: pending.events + next.events });
      return;
    }
    const entry = this.supervised.get(service.spec.name);
    if (entry === undefined) return;
    this.guard(service.spec.name, 'update', () => {
      const now = this.wall();
      const death = service.deaths.at(-1);
      if (death !== undefined && death !== entry.lastDeath) {
        entry.lastDeath = death;
        entry.tally.push({ wallMs: now, status: death.status });
        if (entry.tally.length > entry.maxTally) entry.tally.splice(0, entry.tally.length - entry.maxTally);
        entry.dir.writeDeathTally(packDeathTally(entry.tally, entry.maxTally));
      }
      const next = nextSvStatus(entry.status, service, now);
      this.announce(entry, next.status, next.events);
    });
  }

  removed(name: string): void {
    this.pending.delete(name);
    const entry = this.supervised.get(name);
    if (entry === undefined) return;
    this.supervised.delete(name);
    this.guard(name, 'close', () => {
      // As s6-supervise's last word: its listeners (s6-svwait) learn that supervision ended.
      entry.dir.notify('x');
      entry.dir.close();
    });
  }

  /** Ends every service's supervision files (at warden's exit). */
  closeAll(): void {
    for (const name of [...this.supervised.keys()]) this.removed(name);
  }

  /** Writes the status when it changed, then wakes the listeners: a reader woken by the event reads the new status. */
  private announce(entry: Supervised, status: SvStatus, events: string): void {
    if (!sameStatus(entry.status, status)) entry.dir.writeStatus(packSvStatus(status));
    entry.status = status;
    entry.dir.notify(events);
  }

  private control(name: string, bytes: Buffer): void {
    for (const letter of bytes.toString('latin1')) {
      const entry = this.supervised.get(name);
      if (entry === undefined) return;
      const action = svControlAction(letter, isUp(entry.status));
      if (action === null) continue;
      if (action.refused !== null) {
        this.opts.logger.warn({ service: name, event: 's6-control-refused', letter }, `s6-svc -${letter} ignored: ${action.refused}`);
        continue;
      }
      this.guard(name, 'control', () => {
        if (action.downFile !== null) entry.dir.setFile('down', action.downFile === 'add' ? '' : null);
        if (action.command !== null) {
          const request: Request = action.command.cmd === 'signal' ? { cmd: 'signal', signal: action.command.signal, services: [name] } : { cmd: action.command.cmd, services: [name] };
          void this.opts.request({ v: PROTOCOL_VERSION, ...request }).then((result) => {
            if (!result.ok) this.opts.logger.warn({ service: name, event: 's6-control-refused', letter, code: result.error.code }, `s6-svc -${letter}: ${result.error.message}`);
          });
        }
        // s6-supervise marks a running program paused (p) or not (c) as it signals it.
        if (action.paused !== null && isUp(entry.status)) this.announce(entry, { ...entry.status, paused: action.paused }, '');
      });
    }
  }

  /** Runs `work`; a failure is one log line per service, never an error in the supervisor. */
  private guard(name: string, what: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      if (this.failed.has(name)) return;
      this.failed.add(name);
      const reason = err instanceof Error ? err.message : String(err);
      this.opts.logger.warn({ service: name, event: 's6-supervise-files-failed', what, reason }, `s6's tools cannot see ${name}: ${reason}`);
    }
  }
}

function sameStatus(a: SvStatus, b: SvStatus): boolean {
  return (
    a.stamp === b.stamp &&
    a.readyStamp === b.readyStamp &&
    a.pid === b.pid &&
    a.wstat === b.wstat &&
    a.paused === b.paused &&
    a.finishing === b.finishing &&
    a.wantUp === b.wantUp &&
    a.ready === b.ready
  );
}
