/**
 * Reaps the processes that Node never will: orphans re-parented to warden (as PID 1 or as a
 * child subreaper), and anything else it did not spawn through child_process.
 *
 * Why not `waitpid(-1)` like tini: libuv reaps the children that child_process spawned with
 * `waitpid(pid)` one by one, after its own SIGCHLD callback. A `waitpid(-1)` here would sometimes
 * win that race, and the child's 'exit' event would never fire (measured: 1 lost in 200). So we
 * list our direct children from /proc and only reap the ones the caller does not manage.
 *
 * Why no polling timer: every death of a child sends SIGCHLD. Signals of one kind coalesce, so a
 * drain reaps until nothing is left rather than one per signal; and a child that dies after
 * being seen running by a drain raises a new SIGCHLD that triggers the next drain.
 */
import { waitpidNoHang, type WaitStatus } from './native.js';
import { directChildren } from './process-tree.js';

export type { WaitStatus } from './native.js';

export type ReaperOptions = {
  /** True for pids spawned via child_process whose 'exit' has not been seen: libuv reaps those. */
  isManaged: (pid: number) => boolean;
  /** Called once per reaped process that was not managed. */
  onOrphanReaped: (pid: number, status: WaitStatus) => void;
  /** Errors met while reaping from the signal handler (they are never thrown from it). */
  onError?: (error: unknown) => void;
};

/** Reaps every unmanaged child of this process on each SIGCHLD, and on demand with drain(). */
export class Reaper {
  readonly #opts: ReaperOptions;
  #listening = false;
  readonly #onSignal = (): void => {
    try {
      this.drain();
    } catch (error) {
      this.#report(error);
    }
  };

  constructor(opts: ReaperOptions) {
    this.#opts = opts;
  }

  /** Listens to SIGCHLD (next to libuv's own listener) and reaps what is already dead. */
  start(): void {
    if (this.#listening) return;
    // Node delivers SIGCHLD to JS listeners as well as to libuv's child watcher: both are libuv
    // signal handles, and libuv fans one signal out to every handle. Node unrefs the handle, so
    // listening does not keep the process alive.
    process.on('SIGCHLD', this.#onSignal);
    this.#listening = true;
    this.#onSignal();
  }

  /** Stops listening; zombies left after this are only reaped by an explicit drain(). */
  stop(): void {
    if (!this.#listening) return;
    process.off('SIGCHLD', this.#onSignal);
    this.#listening = false;
  }

  /** Reaps every unmanaged dead child now, without blocking; returns how many were reaped. */
  drain(): number {
    let total = 0;
    // Repeat until a pass reaps nothing: children that died while a pass ran are taken now
    // rather than on the next SIGCHLD, which matters for drain() at shutdown.
    for (;;) {
      let reaped = 0;
      for (const pid of directChildren()) {
        if (this.#opts.isManaged(pid)) continue;
        let result: ReturnType<typeof waitpidNoHang>;
        try {
          result = waitpidNoHang(pid);
        } catch (error) {
          // One odd pid must not stop the others from being reaped.
          this.#report(error);
          continue;
        }
        if (result === null) continue;
        reaped++;
        try {
          this.#opts.onOrphanReaped(result.pid, result.status);
        } catch (error) {
          this.#report(error);
        }
      }
      total += reaped;
      if (reaped === 0) return total;
    }
  }

  #report(error: unknown): void {
    try {
      this.#opts.onError?.(error);
    } catch {
      // The error callback itself failed: nothing left to tell, and PID 1 must keep going.
    }
  }
}
