/**
 * warden's own log on a non-blocking stream: when the reader falls behind by more than `limit`
 * bytes, new lines are dropped and counted rather than queued without end, and once it catches
 * up a notice says how many were lost. PID 1's memory stays bounded whoever reads its stderr.
 */
export class DroppingWriter {
  private dropped = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { readonly writableLength: number },
    private readonly limit: number,
    private readonly notice: (dropped: number) => string,
  ) {}

  write(line: string): boolean {
    if (this.out.writableLength > this.limit) {
      this.dropped++;
      return false;
    }
    if (this.dropped > 0) {
      const notice = this.notice(this.dropped);
      this.dropped = 0;
      this.out.write(notice);
    }
    return this.out.write(line);
  }

  /** Calls `cb` once everything queued has reached the reader (pino's `logger.flush`). */
  flush(cb: (err?: Error) => void): void {
    if (this.out.writableLength === 0) return cb();
    // An empty write's callback runs once everything queued before it is out.
    this.out.write('', () => cb());
  }

  /** Lines dropped since the last notice. */
  get droppedLines(): number {
    return this.dropped;
  }
}
