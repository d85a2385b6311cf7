/**
 * The pipes of s6-rc pipelines, held open by warden as s6-rc's fd holder holds them: each
 * consumer reads one pipe that all its producers write to, and since warden keeps a read-write
 * descriptor of it for as long as the pipeline exists, either side may die and restart without
 * the other seeing EOF or EPIPE, and what is in the pipe waits for the consumer to come back.
 * Each pipe is a FIFO in the runtime dir, opened O_RDWR (which never blocks on Linux).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Pipe } from '../core/unit-set.js';

export interface Stdio {
  /** fd for the program's stdin (a consumer), or null. */
  readonly stdin: number | null;
  /** fd for the program's stdout (a producer), or null. */
  readonly stdout: number | null;
}

export class PipeHolder {
  /** consumer → the fd warden holds. */
  private readonly fds = new Map<string, number>();
  /** service → its stdio ends. */
  private ends = new Map<string, Stdio>();

  constructor(private readonly dir: string) {}

  /** Makes the pipes of `pipes` that do not exist yet, closes those no longer wanted; returns what failed. */
  sync(pipes: readonly Pipe[]): string[] {
    const errors: string[] = [];
    const wanted = new Set(pipes.map((p) => p.consumer));
    for (const [consumer, fd] of this.fds) {
      if (wanted.has(consumer)) continue;
      closeSync(fd);
      this.fds.delete(consumer);
    }
    const ends = new Map<string, Stdio>();
    for (const pipe of pipes) {
      let fd = this.fds.get(pipe.consumer);
      if (fd === undefined) {
        try {
          fd = this.open(pipe.consumer);
          this.fds.set(pipe.consumer, fd);
        } catch (err) {
          errors.push(`cannot make the pipe of ${pipe.consumer}: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
      }
      ends.set(pipe.consumer, { stdin: fd, stdout: ends.get(pipe.consumer)?.stdout ?? null });
      for (const p of pipe.producers) ends.set(p, { stdin: ends.get(p)?.stdin ?? null, stdout: fd });
    }
    this.ends = ends;
    return errors;
  }

  /** The stdio ends of service `name` (both null for a service outside every pipeline). */
  stdioOf(name: string): Stdio {
    return this.ends.get(name) ?? { stdin: null, stdout: null };
  }

  /** Closes every pipe (shutdown). */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.ends = new Map();
  }

  private open(consumer: string): number {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, consumer);
    rmSync(path, { force: true });
    const made = spawnSync('mkfifo', ['-m', '0600', path], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.error?.message ?? made.stderr.trim()}`);
    return openSync(path, 'r+');
  }
}
