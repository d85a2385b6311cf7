/**
 * One node of the test cluster: warden as PID 1 of its own PID namespace, inside the node's
 * network namespace, booting the stack's real service dirs (services.d/balancer or
 * services.d/backend) with real HAProxy, Serf and webapps. Its log (warden's JSON lines, the
 * handler's JSON lines, and the services' own output) is kept in memory and in a file.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../integration/harness.js';
import type { NodeNet } from './netns.js';
import { directChildren } from '../../src/adapters/process-tree.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WARDEN_MAIN = join(REPO_ROOT, 'dist/src/cli/main.js');

export type Role = 'balancer' | 'backend';

/** One parsed JSON log line. */
export interface LogEvent {
  readonly event?: string;
  readonly service?: string;
  readonly [field: string]: unknown;
}

export { eventually };

export interface NodeOptions {
  readonly name: string;
  readonly role: Role;
  readonly net: NodeNet;
  /** The node's own files: STACK_RUN_DIR, the warden socket, the log. */
  readonly dir: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The services dir to boot, instead of the repo's `services.d/ROLE`. */
  readonly servicesDir?: string;
}

export class StackNode {
  readonly events: LogEvent[] = [];
  readonly otherOutput: string[] = [];
  readonly startedAt = performance.now();
  /** The same moment in epoch ms, to compare with the `time` of log lines. */
  readonly startedAtEpoch = Date.now();
  readonly runDir: string;
  private readonly child: ChildProcess;
  private readonly logFile: WriteStream;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private wardenPid: number | null = null;

  constructor(readonly opts: NodeOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.runDir = join(opts.dir, 'run');
    this.logFile = createWriteStream(join(opts.dir, 'node.log'));
    const env: Record<string, string> = {};
    for (const key of ['PATH', 'LANG', 'TZ']) if (process.env[key] !== undefined) env[key] = process.env[key]!;
    Object.assign(env, {
      PATH: `${env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
      HOSTNAME: opts.name,
      SERF_NODE: opts.name,
      STACK_HOME: REPO_ROOT.replace(/\/$/, ''),
      STACK_RUN_DIR: this.runDir,
      WARDEN_SOCKET: join(opts.dir, 'warden.sock'),
      // Its own notify sockets (HAProxy's sd_notify): nodes share the host's /run.
      WARDEN_RUN_DIR: join(opts.dir, 'warden-run'),
      // s6-overlay's fixed paths (/run/s6, the exitcode file) would be the host's: the stack needs none.
      WARDEN_S6_RUNTIME: '0',
      WARDEN_LOG_DIR: join(opts.dir, 'log'),
      WARDEN_LOG_FORMAT: 'json',
      WARDEN_SERVICES_GRACETIME: '10000',
      WARDEN_KILL_GRACETIME: '3000',
      TAG: `test-${opts.role}`,
      ...opts.env,
    });
    // --kill-child: should unshare die, warden (and with it the PID namespace) gets SIGKILL.
    this.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        opts.net.ns,
        'unshare',
        '--pid',
        '--fork',
        '--mount-proc',
        '--kill-child',
        process.execPath,
        WARDEN_MAIN,
        'boot',
        '--services',
        opts.servicesDir ?? join(REPO_ROOT, 'services.d', opts.role),
        '--cont-init',
        join(opts.dir, 'cont-init.d'),
        '--cont-finish',
        join(opts.dir, 'cont-finish.d'),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.once('error', (err) => {
        this.otherOutput.push(`spawn error: ${err.message}`);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.logFile.write(chunk);
        rest += chunk;
        const lines = rest.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.onLine(line);
      });
    }
  }

  get name(): string {
    return this.opts.name;
  }

  get address(): string {
    return this.opts.net.address;
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  private onLine(raw: string): void {
    // Services' own JSON lines (the Serf handler's) come captured by warden, as `serf ! {…}`.
    const line = raw.replace(/^[\w.@-]+ [|!] (?=\{)/, '');
    if (line.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          this.events.push(parsed as LogEvent);
          return;
        }
      } catch {
        // Not JSON after all.
      }
    }
    this.otherOutput.push(raw);
  }

  find(pred: (e: LogEvent) => boolean): LogEvent[] {
    return this.events.filter(pred);
  }

  /** Waits for a logged event (already logged or to come). */
  waitForEvent(pred: (e: LogEvent) => boolean, timeoutMs: number, what: string): Promise<LogEvent> {
    return eventually(
      `${this.name}: ${what}`,
      () => {
        const found = this.events.find(pred);
        if (found) return found;
        if (this.exitInfo !== null) throw new Error(`${this.name}: warden exited (${JSON.stringify(this.exitInfo)}) before ${what}; ${this.tail()}`);
        return null;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; ${this.tail()}`);
    });
  }

  /** Waits until warden reports `service` ready. */
  waitReady(service: string, timeoutMs = 20_000): Promise<LogEvent> {
    return this.waitForEvent((e) => e.event === 'ready' && e.service === service, timeoutMs, `${service} ready`);
  }

  /** The last log lines, for failure messages. */
  tail(n = 20): string {
    const events = this.events.slice(-n).map((e) => JSON.stringify(e));
    return `${this.name} last events:\n  ${events.join('\n  ')}\n${this.name} other output:\n  ${this.otherOutput.slice(-10).join('\n  ')}`;
  }

  /** warden's pid on the host: the child of unshare. */
  async hostPid(): Promise<number> {
    if (this.wardenPid !== null) return this.wardenPid;
    const pid = await eventually('the child of unshare', () => directChildren(this.child.pid ?? -1)[0], 10_000, 10);
    this.wardenPid = pid;
    return pid;
  }

  /** Sends `signal` to warden, PID 1 of the node (SIGTERM: the graceful stop `docker stop` does). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    process.kill(await this.hostPid(), signal);
  }

  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timeout = sleep(timeoutMs).then(() => {
      throw new Error(`${this.name}: warden did not exit within ${timeoutMs} ms; ${this.tail()}`);
    });
    return Promise.race([this.exited, timeout]);
  }

  /** Runs `warden ARGS…` against this node's warden (its control socket), as `podman exec NODE warden …` would. */
  async warden(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(process.execPath, [WARDEN_MAIN, ...args], {
      env: { ...process.env, WARDEN_SOCKET: join(this.opts.dir, 'warden.sock') },
    });
    return stdout;
  }

  /** SIGKILLs warden (its PID namespace dies with it) and waits for unshare to go. */
  async kill(): Promise<void> {
    if (this.exitInfo === null) {
      const targets = [this.wardenPid ?? directChildren(this.child.pid ?? -1)[0], this.child.pid];
      for (const pid of targets) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await Promise.race([this.exited, sleep(5000)]);
    }
    this.logFile.end();
  }
}

