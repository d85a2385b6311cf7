/**
 * s6-supervise's on-disk protocol for every longrun warden supervises, so s6's own tools
 * (s6-svc, s6-svstat, s6-svwait, s6-svok, s6-svdt, s6-notifyoncheck) work on its services
 * unchanged: at `BASE/NAME/` the `supervise/` dir (lock, control FIFO, status, death_tally), the
 * `event/` fifodir, and a link to each entry of the service's own dir. BASE is /run/service under
 * s6-overlay's runtime, else warden's runtime dir; never the image's own service dir, which may
 * be read-only. `run`, `finish` and `check` start in `BASE/NAME`, as s6-supervise starts them in
 * its service dir. A longrun gets its dir as soon as a scan finds it, down until the supervisor
 * takes it in (s6-rc's longrun waiting for its dependencies); from then on the status and events
 * are computed by core/s6-svstatus from each new service state. A letter read from the control
 * FIFO becomes the control socket's request and goes through its handler, as `warden down NAME`
 * would.
 */
import { join } from 'node:path';
import type { Logger } from '../adapters/logger.js';
import { PROTOCOL_VERSION, type Request, type RequestLine } from '../protocol/commands.js';
import type { Reply } from '../protocol/reply.js';
import { SUPERVISOR_ENTRIES, SuperviseDir } from '../adapters/s6-supervise-dir.js';
import { linkServiceFiles } from '../adapters/service-links.js';
import { svControlAction } from '../core/s6-control.js';
import { initialSvStatus, isUp, nextSvStatus, packDeathTally, packSvStatus, waitingSvStatus, type SvChange, type SvStatus, type TallyEntry } from '../core/s6-svstatus.js';
import type { Death, Service } from '../core/service-machine.js';
import type { ServiceSpec } from '../core/service-spec.js';
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
  /** Taken in by the supervisor (added); before, a longrun known from a scan, waiting down. */
  taken: boolean;
}

export class S6SuperviseProtocol implements SupervisorObserver {
  private readonly supervised = new Map<string, Supervised>();
  /** Services whose dir could not be made: said once each, not at every event. */
  private readonly failed = new Set<string>();
  private readonly wall: () => number;
  /** Longruns of the latest scan whose dir is not made yet (known). */
  private readonly pending = new Map<string, ServiceSpec>();
  /** closeAll was called: warden is stopping, and a late scan opens nothing again. */
  private closed = false;

  constructor(private readonly opts: S6ProtocolOptions) {
    this.wall = opts.wallClock;
  }

  /** The dir s6's tools are pointed at for `name`. */
  dirOf(name: string): string {
    return join(this.opts.base, name);
  }

  /**
   * Where the service's `run`, `finish` and `check` start: its dir here, or the image's service
   * dir when this one could not be made (a read-only /run: s6's tools then cannot see it anyway).
   */
  workDirOf(spec: ServiceSpec): string {
    return this.supervised.get(spec.name)?.dir.dir ?? spec.dir;
  }

  /**
   * The longruns of the latest scan: each gets its dir, down, whether it starts at once, waits
   * for its dependencies or is held down; one no scan finds any more and the supervisor never
   * took in ends here (one it took in ends when it is retired). A known one's links follow its
   * service dir, where entries may have come or gone. New ones are made on the next turn of the
   * event loop: those the supervisor takes in at once are made then, each right before its
   * first spawn, so the first service does not wait for the dirs of all the others.
   */
  known(specs: readonly ServiceSpec[]): void {
    if (this.closed) return;
    const names = new Set(specs.map((s) => s.name));
    for (const [name, entry] of this.supervised) if (!entry.taken && !names.has(name)) this.close(name, entry);
    this.pending.clear();
    for (const spec of specs) {
      const entry = this.supervised.get(spec.name);
      if (entry === undefined) this.pending.set(spec.name, spec);
      else this.guard(spec.name, 'link', () => linkServiceFiles(entry.dir.dir, spec.dir, SUPERVISOR_ENTRIES));
    }
    if (this.pending.size > 0) setImmediate(() => this.openPending());
  }

  private openPending(): void {
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const spec of batch) if (!this.closed && !this.supervised.has(spec.name)) this.open(spec, null);
  }

  /**
   * The supervisor takes the service in. Its dir is made now, if a scan has not made it: the
   * first spawn follows at once, and s6-supervise too holds the lock before it starts `run`
   * (s6-notifyoncheck checks it).
   */
  added(service: Service): void {
    const { spec } = service;
    this.pending.delete(spec.name);
    const entry = this.supervised.get(spec.name);
    if (entry === undefined) return this.open(spec, service);
    entry.taken = true;
    entry.maxTally = spec.maxDeathTally;
    this.guard(spec.name, 'take', () => {
      linkServiceFiles(entry.dir.dir, spec.dir, SUPERVISOR_ENTRIES);
      this.writeSettings(entry.dir, spec, service);
      this.stepped(service);
    });
  }

  /** `service` null: known from a scan only, down and not wanted up until the supervisor takes it in. */
  private open(spec: ServiceSpec, service: Service | null): void {
    const { name } = spec;
    this.guard(name, 'open', () => {
      const dir = SuperviseDir.open(this.dirOf(name), (bytes) => this.control(name, bytes));
      try {
        this.writeSettings(dir, spec, service);
        const now = this.wall();
        const first: SvChange = service === null ? waitingSvStatus(now) : initialSvStatus(service, now);
        const entry: Supervised = { dir, status: first.status, lastDeath: service?.deaths.at(-1), tally: [], maxTally: spec.maxDeathTally, taken: service !== null };
        this.supervised.set(name, entry);
        dir.writeStatus(packSvStatus(first.status));
        dir.notify(first.events);
      } catch (err) {
        dir.close();
        throw err;
      }
      this.failed.delete(name);
      // Apart: s6's tools see the service even when its entries cannot be linked.
      this.guard(name, 'link', () => linkServiceFiles(dir.dir, spec.dir, SUPERVISOR_ENTRIES));
    });
  }

  /**
   * The files s6's tools read in a service dir, as warden keeps them: `down` (s6-svstat's
   * "normally up"; a longrun not taken in has one, as s6-rc gives its longruns until it brings
   * them up) and `notification-fd` (s6-svc -wU, s6-notifyoncheck).
   */
  private writeSettings(dir: SuperviseDir, spec: ServiceSpec, service: Service | null): void {
    dir.setFile('down', service === null || spec.downAtBoot ? '' : null);
    dir.setFile('notification-fd', spec.notificationFd === null ? null : `${spec.notificationFd}\n`);
  }

  stepped(service: Service): void {
    const entry = this.supervised.get(service.spec.name);
    if (entry === undefined || !entry.taken) return;
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
    const entry = this.supervised.get(name);
    if (entry !== undefined) this.close(name, entry);
  }

  private close(name: string, entry: Supervised): void {
    this.supervised.delete(name);
    this.guard(name, 'close', () => {
      // As s6-supervise's last word: its listeners (s6-svwait) learn that supervision ended.
      entry.dir.notify('x');
      entry.dir.close();
    });
  }

  /** Ends every service's supervision files (at warden's exit). */
  closeAll(): void {
    this.closed = true;
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
