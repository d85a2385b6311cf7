/**
 * Time as the unit tests drive it: a clock that moves only when the test advances it, and a
 * timer queue fired in time order, each timer at its own virtual millisecond. The daemon's
 * fakes (daemon/virtual-edges.ts) and the Serf handler's loop tests build on it.
 */
import type { Schedule } from '../../src/adapters/clock.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

export class VirtualTime {
  now = 0;
  private seq = 0;
  private timers: Timer[] = [];

  /** The `Schedule` edge on this clock. */
  readonly schedule: Schedule = (ms, fire) => {
    const timer: Timer = { at: this.now + Math.max(0, ms), seq: this.seq++, fire, cancelled: false };
    this.timers.push(timer);
    return () => void (timer.cancelled = true);
  };

  /** How many timers are armed. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock `ms` ahead, firing each timer due on the way at its own time, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.now = due.at;
      due.fire();
      await settle();
    }
    this.now = until;
  }
}

/** Lets every promise and microtask that is ready run (the code's awaits), without moving time. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
