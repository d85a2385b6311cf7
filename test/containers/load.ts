/**
 * A bounded keep-alive HTTP load loop against the stack's published frontend (127.0.0.1 only):
 * CONCURRENCY workers send `GET /` over keep-alive connections, without cookies (so HAProxy
 * balances round-robin), until the duration has passed or `stop()` is called; optionally at most
 * `rate` requests per second in all. It counts answers per backend node (the `host` of the
 * webapp's JSON) and every failure with its reason. Used by the container test and, through
 * load-client.ts, by scripts/stack.sh.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  /** Hard bound on the run; capped at 15 minutes. */
  readonly durationMs: number;
  /** At most this many requests per second in all (0 or absent: as fast as answers come). */
  readonly rate?: number;
  readonly timeoutMs?: number;
}

export interface Answer {
  readonly n: number;
  readonly host: string;
  readonly ip: string;
  /** Date.now() when it arrived. */
  readonly at: number;
}

export interface LoadSummary {
  readonly ok: number;
  readonly failed: number;
  /** Of the failed: connections refused (ECONNREFUSED: nothing listened). */
  readonly refused: number;
  /** Of the failed: requests whose open connection died under them (ECONNRESET, EPIPE). */
  readonly reset: number;
  readonly ms: number;
  readonly byHost: Record<string, number>;
  readonly errors: readonly string[];
}

const MAX_DURATION_MS = 15 * 60_000;
const KEPT_ERRORS = 200;

export class Load {
  ok = 0;
  failed = 0;
  refused = 0;
  reset = 0;
  readonly byHost = new Map<string, number>();
  /** Date.now() of each node's first and latest answer. */
  readonly firstSeen = new Map<string, number>();
  readonly lastSeen = new Map<string, number>();
  /** The first KEPT_ERRORS failures: "+1234ms reason". */
  readonly errors: string[] = [];
  /** The latest answers, newest last (a sample of who answered). */
  readonly recent: Answer[] = [];
  readonly startedAt = Date.now();
  private stopped = false;
  private nextSlot = performance.now();
  private readonly agent: Agent;
  private readonly done: Promise<void>;
  private readonly deadline: number;

  constructor(readonly opts: LoadOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
    this.deadline = performance.now() + Math.min(opts.durationMs, MAX_DURATION_MS);
    this.done = Promise.all(Array.from({ length: opts.concurrency }, () => this.worker())).then(() => undefined);
  }

  /** Answers from `host` so far. */
  servedBy(host: string): number {
    return this.byHost.get(host) ?? 0;
  }

  /** Stops sending, waits for the requests in flight, and returns the counts. */
  async stop(): Promise<LoadSummary> {
    this.stopped = true;
    await this.done;
    this.agent.destroy();
    return this.summary();
  }

  /** Resolves when the duration has passed (or stop() was called). */
  finished(): Promise<void> {
    return this.done;
  }

  summary(): LoadSummary {
    return { ok: this.ok, failed: this.failed, refused: this.refused, reset: this.reset, ms: Date.now() - this.startedAt, byHost: Object.fromEntries(this.byHost), errors: [...this.errors] };
  }

  private async worker(): Promise<void> {
    while (!this.stopped && performance.now() < this.deadline) {
      if (this.opts.rate) {
        const now = performance.now();
        const slot = Math.max(now, this.nextSlot);
        this.nextSlot = slot + 1000 / this.opts.rate;
        if (slot > now) await sleep(slot - now);
        if (this.stopped) break;
      }
      await this.once();
    }
  }

  private once(): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    return new Promise((resolve) => {
      let settled = false;
      const fail = (reason: string, code?: string): void => {
        if (settled) return;
        settled = true;
        this.failed++;
        if (code === 'ECONNREFUSED') this.refused++;
        else if (code === 'ECONNRESET' || code === 'EPIPE') this.reset++;
        if (this.errors.length < KEPT_ERRORS) this.errors.push(`+${Date.now() - this.startedAt}ms ${reason}`);
        resolve();
      };
      const req = request(this.opts.url, { agent: this.agent, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('error', (err) => fail(`response: ${err.message}`));
        res.on('end', () => {
          if (settled) return;
          if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode ?? '?'} ${body.slice(0, 60).replace(/\s+/g, ' ')}`);
          let host = '?';
          let ip = '?';
          try {
            const parsed = JSON.parse(body) as { host?: unknown; ip?: unknown };
            if (typeof parsed.host === 'string') host = parsed.host;
            if (typeof parsed.ip === 'string') ip = parsed.ip;
          } catch {
            return fail(`not JSON: ${body.slice(0, 60)}`);
          }
          settled = true;
          this.ok++;
          const now = Date.now();
          this.byHost.set(host, (this.byHost.get(host) ?? 0) + 1);
          if (!this.firstSeen.has(host)) this.firstSeen.set(host, now);
          this.lastSeen.set(host, now);
          this.recent.push({ n: this.ok + this.failed, host, ip, at: now });
          if (this.recent.length > 32) this.recent.shift();
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message, err.code));
      req.end();
    });
  }
}
