/**
 * The last stage of shutdown: TERM every process still in the container, wait, KILL, reap all.
 * As PID 1 that is everything in the PID namespace (`kill(-1)`); as a subreaper it is only
 * warden's own descendants, never the rest of the machine.
 */
import { descendants, directChildren } from '../adapters/process-tree.js';
import type { DaemonEdges } from './edges.js';
import type { SweepOptions } from './init-edges.js';

export interface KillEverythingOptions extends SweepOptions {
  /** Its signals, its clock and its polling timer. */
  readonly edges: Pick<DaemonEdges, 'signal' | 'schedule' | 'clock'>;
}

/** How long to wait for the kernel to tear down SIGKILLed processes. */
const KILL_SETTLE_MS = 2000;
/** Shutdown only: how often to look whether any child is left. */
const POLL_MS = 10;

/** Returns how many processes had to be signalled (0 when the container was already empty). */
export async function killEverything(opts: KillEverythingOptions): Promise<number> {
  opts.reaper.drain();
  const left = directChildren().length;
  if (left === 0) return 0;
  opts.logger.info({ event: 'kill-all', signal: 'SIGTERM', children: left }, 'kill-all');
  signalAll('SIGTERM', opts.edges);
  signalAll('SIGCONT', opts.edges);
  if (await noChildrenWithin(opts.graceMs, opts)) return left;
  opts.logger.warn({ event: 'kill-all', signal: 'SIGKILL', children: directChildren().length }, 'kill-all');
  signalAll('SIGKILL', opts.edges);
  if (!(await noChildrenWithin(KILL_SETTLE_MS, opts))) {
    opts.logger.error({ event: 'kill-all-failed', children: directChildren().join(',') }, 'processes survived SIGKILL');
  }
  return left;
}

function signalAll(signal: NodeJS.Signals, edges: KillEverythingOptions['edges']): void {
  if (process.pid === 1) {
    edges.signal(-1, signal);
    return;
  }
  for (const pid of descendants(process.pid)) edges.signal(pid, signal);
}

async function noChildrenWithin(ms: number, { reaper, edges }: KillEverythingOptions): Promise<boolean> {
  const deadline = edges.clock.now() + ms;
  for (;;) {
    reaper.drain();
    if (directChildren().length === 0) return true;
    if (edges.clock.now() >= deadline) return false;
    await new Promise<void>((resolve) => void edges.schedule(POLL_MS, resolve));
  }
}
