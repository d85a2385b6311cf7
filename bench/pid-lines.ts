/**
 * The bench's clock on the services: every start of the benchmark service writes its pid as one
 * line into a FIFO that the bench holds open (read+write, so writers never block and the reader
 * never sees EOF). Each line is stamped with hrtime when it arrives.
 */
import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';

export interface PidLine {
  readonly pid: number;
  /** process.hrtime.bigint() when the line was read. */
  readonly at: bigint;
}

export class PidLines {
  private readonly socket: Socket;
  private readonly pending: PidLine[] = [];
  private waiter: ((line: PidLine) => void) | null = null;
  private partial = '';

  constructor(readonly path: string) {
    // Node has no mkfifo(3); the coreutils tool is on every Debian.
    execFileSync('mkfifo', ['-m', '0666', path]);
    // O_RDWR: we are also a writer, so a service that opens the FIFO never blocks and its
    // close never delivers EOF. A non-blocking fd lets libuv poll it like a pipe (epoll), so
    // the stamp is taken on the event-loop turn the line arrives.
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    this.socket = new Socket({ fd, readable: true, writable: false });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => this.onData(chunk, process.hrtime.bigint()));
  }

  private onData(chunk: string, at: bigint): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const text of lines) {
      const pid = Number.parseInt(text.trim(), 10);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      const line = { pid, at };
      if (this.waiter) {
        const resolve = this.waiter;
        this.waiter = null;
        resolve(line);
      } else {
        this.pending.push(line);
      }
    }
  }

  /** Forgets lines that arrived before now (from an earlier instance). */
  clear(): void {
    this.pending.length = 0;
  }

  /** The next pid line; rejects after `timeoutMs`. */
  next(timeoutMs: number): Promise<PidLine> {
    const queued = this.pending.shift();
    if (queued) return Promise.resolve(queued);
    if (this.waiter) return Promise.reject(new Error(`${this.path}: already waiting`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no pid line on ${this.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
