/**
 * Keeps the health file beside the control socket current (protocol/health-file.ts): after
 * every change of a service or a unit, on the next turn of the event loop (a burst of changes
 * makes one write, and none when nothing health shows changed), and when a crash-looping
 * service will have run long enough to be reported out of it. Making it costs ~3 ms with 1 000
 * services (their statuses, mostly): while changes keep coming, it takes at most a tenth of
 * warden's time, and may then lag by nine times that (~30 ms). The files are made at the first
 * change, once the first services started: koffi (for the FIFO) loads after their spawns, not
 * before. Until then, and whenever they cannot be written, `warden health` asks the socket.
 */
import type { Schedule } from '../adapters/clock.js';
import type { Logger } from '../adapters/logger.js';
import type { Service } from '../core/service-machine.js';
import { healthFileText } from '../protocol/health-file.js';
import type { ServiceStatus } from '../protocol/service-status.js';
import { crashLoopReportEnds } from './service-status.js';

/** The health file and its FIFO, once made (adapters/health-files.ts). */
export interface HealthFilesPort {
  write(text: string): void;
  close(): void;
}

export interface HealthPublisherDeps {
  /** The control socket the files go beside (for the warning when they cannot be written). */
  readonly socket: string;
  /** Makes the files with their first text; throws when they cannot be made. */
  readonly openFiles: (text: string) => HealthFilesPort;
  /** Every service known, as `status` reports it (no usage needed). */
  readonly statuses: () => readonly ServiceStatus[];
  /** The supervised services: the crash loops among them. */
  readonly services: () => readonly Service[];
  /** Calls the listener after every change; returns the unsubscribe function. */
  readonly subscribe: (listener: () => void) => () => void;
  readonly now: () => number;
  readonly schedule: Schedule;
  readonly logger: Logger;
}

export class HealthPublisher {
  private files: HealthFilesPort | null = null;
  private written = '';
  private queued = false;
  /** Monotonic ms before which the next write waits (the cost bound above). */
  private nextAt = 0;
  /** Once the files cannot be written: the socket answers from then on. */
  private stopped = false;
  private unsubscribe: () => void = () => undefined;
  private cancelTimer: () => void = () => undefined;
  private cancelQueued: () => void = () => undefined;

  constructor(private readonly deps: HealthPublisherDeps) {}

  /** Publishes from the next change on. Call it once warden listens on the socket (the files are that warden's). */
  start(): void {
    this.unsubscribe = this.deps.subscribe(() => this.queue());
  }

  /** Removes the files: `warden health` then asks the socket, which closes too. */
  close(): void {
    this.stopped = true;
    this.unsubscribe();
    this.cancelTimer();
    this.cancelQueued();
    this.files?.close();
    this.files = null;
  }

  private queue(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    const run = (): void => {
      this.queued = false;
      this.publish();
    };
    const wait = this.nextAt - this.deps.now();
    if (wait > 0) this.cancelQueued = this.deps.schedule(wait, run);
    else setImmediate(run);
  }

  private publish(): void {
    if (this.stopped) return;
    const started = this.deps.now();
    const text = healthFileText(this.deps.statuses());
    // What each write costs again (not the first one's koffi, for the FIFO).
    this.nextAt = this.deps.now() + 9 * (this.deps.now() - started);
    try {
      if (this.files === null) this.files = this.deps.openFiles(text);
      else if (text !== this.written) this.files.write(text);
      this.written = text;
    } catch (err) {
      // A stale file must not answer: no FIFO, no file; the socket answers instead.
      this.deps.logger.warn({ event: 'health-file-failed', socket: this.deps.socket, err }, 'warden health asks the control socket: its file beside it cannot be written');
      this.close();
      return;
    }
    this.armCrashLoopEnd();
  }

  /** The next moment a crash loop stops being reported, when nothing else may change meanwhile. */
  private armCrashLoopEnd(): void {
    this.cancelTimer();
    const ends = this.deps.services().map(crashLoopReportEnds).filter((at): at is number => at !== null);
    if (ends.length === 0) return;
    this.cancelTimer = this.deps.schedule(Math.max(0, Math.min(...ends) - this.deps.now()) + 1, () => this.queue());
  }
}
