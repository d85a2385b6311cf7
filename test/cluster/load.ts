/** Runs load-client.js inside a namespace and follows its counts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './stack-node.js';

export interface LoadSample {
  readonly t: number;
  readonly ok: number;
  readonly failed: number;
  /** Of the failed: connections refused. */
  readonly refused: number;
  /** Of the failed: requests whose open connection died (the process holding it was killed). */
  readonly reset: number;
  readonly byHost: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  readonly final: boolean;
}

export class Load {
  readonly samples: LoadSample[] = [];
  readonly errors: string[] = [];
  /** performance.now() of the test process when each host was first seen answering. */
  readonly firstSeen = new Map<string, number>();
  private readonly child: ChildProcess;
  private readonly done: Promise<void>;
  private stderr = '';

  constructor(ns: string, url: string, concurrency: number, durationMs: number) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(REPO_ROOT, 'dist/test/cluster/load-client.js'), url, String(concurrency), String(durationMs), '100'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let rest = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      rest += chunk;
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.onSample(JSON.parse(line) as LoadSample);
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (c: string) => (this.stderr += c));
    this.done = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  private onSample(s: LoadSample): void {
    this.samples.push(s);
    this.errors.push(...s.errors);
    const now = performance.now();
    for (const [host, count] of Object.entries(s.byHost)) if (count > 0 && !this.firstSeen.has(host)) this.firstSeen.set(host, now);
  }

  get last(): LoadSample {
    return this.samples.at(-1) ?? { t: 0, ok: 0, failed: 0, refused: 0, reset: 0, byHost: {}, errors: [], final: false };
  }

  /** Answers from `host` so far. */
  servedBy(host: string): number {
    return this.last.byHost[host] ?? 0;
  }

  /** Stops the load and resolves with the final counts. */
  async stop(): Promise<LoadSample> {
    this.child.stdin!.end();
    await Promise.race([this.done, new Promise((r) => setTimeout(r, 15_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    const final = this.samples.find((s) => s.final);
    if (final === undefined) throw new Error(`the load client gave no final report; stderr: ${this.stderr.slice(-2000)}`);
    return final;
  }

  /** Kills it at once (cleanup). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
