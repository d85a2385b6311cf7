/**
 * The listening sockets warden holds for services (their `listen` files). Each is bound once,
 * when its service is first seen, and kept across every restart of the service: a crashed or
 * killed server costs no refused connection, as the kernel queues new ones on the socket until
 * the next run accepts them. A rescan keeps a socket whose line is unchanged, binds new lines
 * and closes the ones that went away.
 */
import { bindListening, closeListening, describe, relisten } from '../adapters/listen-socket.js';
import { problem, type ConfigProblem } from '../config/config-problem.js';
import { endpointKey } from '../config/listen-file.js';
import type { ServiceSpec } from '../core/service-spec.js';

interface Held {
  /** The line's address: a line whose address changed gets a new socket, one whose backlog changed keeps it. */
  readonly id: string;
  readonly fd: number;
}

export interface SyncResult {
  /** The services whose sockets are all bound (with none, trivially): they may run. */
  readonly runnable: ServiceSpec[];
  /** A socket that could not be bound, by its `listen` file and line: that service does not run. */
  readonly problems: ConfigProblem[];
}

export class HeldSockets {
  private readonly byService = new Map<string, readonly Held[]>();

  /** The fds to hand to a run of `name`, in the order of its `listen` file. */
  fdsOf(name: string): readonly number[] {
    return this.byService.get(name)?.map((h) => h.fd) ?? [];
  }

  /** Binds what `specs` declare and is not held yet, and closes what no spec declares any more. */
  sync(specs: readonly ServiceSpec[]): SyncResult {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, held] of this.byService) {
      const spec = wanted.get(name);
      const keep = new Set(spec?.listen.map(endpointKey) ?? []);
      for (const h of held) if (!keep.has(h.id)) closeListening(h.fd);
      if (spec === undefined) this.byService.delete(name);
    }
    const runnable: ServiceSpec[] = [];
    const problems: ConfigProblem[] = [];
    for (const spec of specs) {
      if (spec.listen.length === 0) {
        runnable.push(spec);
        continue;
      }
      const old = new Map((this.byService.get(spec.name) ?? []).map((h) => [h.id, h]));
      const held: Held[] = [];
      const failed: ConfigProblem[] = [];
      for (const line of spec.listen) {
        const kept = old.get(endpointKey(line));
        if (kept !== undefined) {
          // listen() again on a listening socket sets its backlog (Linux), without a new bind.
          relisten(kept.fd, line.backlog);
          held.push(kept);
          continue;
        }
        const bound = bindListening(line);
        if (bound.ok) held.push({ id: endpointKey(line), fd: bound.fd });
        else failed.push(problem(`${spec.dir}/listen`, `cannot listen on ${describe(line)}: ${bound.error}`, line.line));
      }
      if (failed.length === 0) {
        this.byService.set(spec.name, held);
        runnable.push(spec);
      } else {
        // All or none: a service is not started with some of its sockets missing.
        for (const h of held) closeListening(h.fd);
        this.byService.delete(spec.name);
        problems.push(...failed);
      }
    }
    return { runnable, problems };
  }

  /** Closes every socket (shutdown). */
  closeAll(): void {
    this.sync([]);
  }
}
