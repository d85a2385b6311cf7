/**
 * Memory and CPU of each running service for `warden status`. The CPU share is over the time
 * since the previous status that sampled the same process (as `top` between two screens), or
 * over the process's whole life at the first one: a probe every few seconds sees its last
 * few seconds.
 */
import type { TreeUsage } from '../adapters/proc-usage.js';

export interface ServiceUsage {
  readonly rssBytes: number;
  readonly cpuMs: number;
  /** Share of one CPU, in percent (200 = two CPUs busy), one decimal. */
  readonly cpuPercent: number;
  readonly processes: number;
}

interface Sample {
  readonly pid: number;
  readonly at: number;
  readonly cpuMs: number;
}

export class UsageSampler {
  private readonly last = new Map<string, Sample>();

  constructor(private readonly read: (pid: number) => TreeUsage | null) {}

  /** `name`'s usage now (`now` monotonic ms; the process has run `uptimeMs`), or null when its process is gone. */
  sample(name: string, pid: number, now: number, uptimeMs: number): ServiceUsage | null {
    const usage = this.read(pid);
    if (usage === null) {
      this.last.delete(name);
      return null;
    }
    const before = this.last.get(name);
    const [cpuMs, spanMs] = before !== undefined && before.pid === pid && now > before.at ? [usage.cpuMs - before.cpuMs, now - before.at] : [usage.cpuMs, uptimeMs];
    this.last.set(name, { pid, at: now, cpuMs: usage.cpuMs });
    // A descendant that died unreaped takes its time with it: a window can lose time, never go below 0.
    const cpuPercent = spanMs > 0 ? Math.round((Math.max(0, cpuMs) / spanMs) * 1000) / 10 : 0;
    return { ...usage, cpuPercent };
  }

  /** Forgets services that are gone, so that the samples kept stay as many as the services. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.last.keys()) if (!names.has(name)) this.last.delete(name);
  }
}
