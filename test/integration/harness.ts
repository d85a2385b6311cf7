/**
 * Runs warden as a real PID 1: `unshare --pid --fork --mount-proc node dist/src/cli/main.js boot …`
 * in a fresh temp dir, with helpers to write service dirs, follow warden's JSON log, signal it,
 * look inside its PID namespace from the host, and always clean up (SIGKILL to warden takes the
 * whole namespace with it).
 *
 * Every wait here is bounded: a test that fails must fail with a message, never hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';
import { descendants } from '../../src/adapters/process-tree.js';

/** The repo root, from dist/test/integration/harness.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WARDEN_MAIN = join(REPO_ROOT, 'dist/src/cli/main.js');

/** One line of warden's pino log. Fields are checked where used: the log is an API, not a type. */
export interface WardenEvent {
  readonly event?: string;
  readonly service?: string;
  readonly pid?: number;
  readonly code?: number;
  readonly signal?: number | string;
  readonly [field: string]: unknown;
}

export type EventPredicate = (e: WardenEvent) => boolean;

/** The host's view of one process in warden's namespace. */
export interface NsProcess {
  readonly hostPid: number;
  /** Its pid inside warden's namespace (the last NSpid field). */
  readonly nsPid: number;
  readonly state: string;
  readonly comm: string;
}

export interface ServiceDef {
  /** Body of the run script (`#!/bin/sh` is prepended unless it starts with `#!`); null writes no run file. */
  readonly run: string | null;
  /** Body of the finish script; `#!/bin/sh` is prepended. */
  readonly finish?: string;
  /** Other files of the service dir (`timeout-kill`, `down`, `restart-delay`, …) and their content. */
  readonly files?: Readonly<Record<string, string>>;
  /** Other executable scripts of the service dir (`check` …): their body, `#!/bin/sh` prepended. */
  readonly scripts?: Readonly<Record<string, string>>;
}

export interface BootOptions {
  /** CMD, passed after `--`. */
  readonly cmd?: readonly string[];
  /** Replaces the whole `boot …` argv (for usage errors). */
  readonly argv?: readonly string[];
  /** Runs this instead of `node dist/src/cli/main.js ARGV` (another build of warden, a chroot). */
  readonly command?: readonly string[];
  /** With `command`: warden's argv[0] once the command has exec'd it (`/init` after env and chroot). */
  readonly initArgv0?: string;
  /** Added to (and overriding) the harness's environment for warden. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Shell commands run as root inside warden's new namespaces (a private mount namespace)
   * before warden is exec'd in their place, still as PID 1: mounts that only it sees.
   */
  readonly prelude?: string;
  /** Run warden as a plain child of the test (a sub-init), not as PID 1 of a new namespace. */
  readonly subInit?: boolean;
  /**
   * Run it on a terminal of its own (`script`), as the session leader holding it, as
   * `docker run -it` does; `Warden.type` writes to the terminal. warden's log then comes
   * through the terminal too.
   */
  readonly terminal?: boolean;
  /** Run warden (still PID 1) as this user and its group, through setpriv; root when absent. */
  readonly user?: { readonly name: string; readonly group: string };
}

/** A port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Shell-quotes one word for a script. */
export function sq(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Polls `condition` every `everyMs` until it gives a value (not null, undefined or false); throws with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  condition: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== null && value !== false) return value;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Waits for work whose length depends on the machine's speed (thousands of forks): it fails
 * only when `progress` stops moving for `stallMs`, so a busy machine slows the test down but
 * never fails it. `progress` returns a count that grows while the work goes on, or `true` when
 * the work is done.
 */
export async function whileProgressing(
  what: string,
  progress: () => Promise<number | true>,
  stallMs: number,
  everyMs = 200,
): Promise<void> {
  let last = -Infinity;
  let movedAt = performance.now();
  for (;;) {
    const now = await progress();
    if (now === true) return;
    if (now > last) {
      last = now;
      movedAt = performance.now();
    } else if (performance.now() - movedAt >= stallMs) {
      throw new Error(`${what}: no progress for ${stallMs} ms (stuck at ${last})`);
    }
    await sleep(everyMs);
  }
}

/**
 * Waits until `count` is down to `target`, failing only when its lowest value has not dropped
 * for `stallMs`: a slow machine drains slowly, a broken reaper not at all.
 */
export async function untilDrained(what: string, count: () => Promise<number>, target: number, stallMs: number): Promise<void> {
  let lowest = Infinity;
  await whileProgressing(
    `${what} down to ${target}`,
    async () => {
      const now = await count();
      if (now <= target) return true;
      lowest = Math.min(lowest, now);
      return -lowest;
    },
    stallMs,
  );
}

/** A temp dir holding one warden's services, stage scripts and marker files. */
export class Sandbox {
  readonly servicesDir: string;
  readonly contInitDir: string;
  readonly contFinishDir: string;
  private readonly wardens: Warden[] = [];

  private constructor(readonly dir: string) {
    this.servicesDir = join(dir, 'services.d');
    this.contInitDir = join(dir, 'cont-init.d');
    this.contFinishDir = join(dir, 'cont-finish.d');
  }

  static async create(): Promise<Sandbox> {
    const dir = await mkdtemp(join(tmpdir(), 'warden-pid1-'));
    const box = new Sandbox(dir);
    await mkdir(box.servicesDir);
    return box;
  }

  /** An absolute path inside the sandbox. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Writes `services.d/NAME/` with its run (and finish) script and setting files. */
  async service(name: string, def: ServiceDef): Promise<string> {
    const dir = join(this.servicesDir, name);
    await mkdir(dir, { recursive: true });
    if (def.run !== null) await writeScript(join(dir, 'run'), def.run);
    if (def.finish !== undefined) await writeScript(join(dir, 'finish'), def.finish);
    for (const [file, content] of Object.entries(def.files ?? {})) {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), content);
    }
    for (const [file, body] of Object.entries(def.scripts ?? {})) await this.script(join(dir, file), body);
    return dir;
  }

  /** Writes an executable `#!/bin/sh` script at `path` (relative to the sandbox unless absolute). */
  async script(path: string, body: string): Promise<string> {
    const file = path.startsWith('/') ? path : this.path(path);
    await mkdir(dirname(file), { recursive: true });
    await writeScript(file, body);
    return file;
  }

  /** Reads a marker file, or null while it does not exist. */
  async read(path: string): Promise<string | null> {
    try {
      return await readFile(path.startsWith('/') ? path : this.path(path), 'utf8');
    } catch {
      return null;
    }
  }

  /** Starts warden as PID 1 of a new PID namespace, on this sandbox's dirs. */
  boot(opts: BootOptions = {}): Warden {
    const argv = opts.argv ?? [
      'boot',
      '--services',
      this.servicesDir,
      '--cont-init',
      this.contInitDir,
      '--cont-finish',
      this.contFinishDir,
      ...(opts.cmd && opts.cmd.length > 0 ? ['--', ...opts.cmd] : []),
    ];
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    // Each sandbox has its own control socket and log dir: nothing shared with other wardens.
    // The same for its runtime dir: the host's /run/warden and /run/s6 are not the sandbox's to write.
    Object.assign(
      env,
      HARNESS_ENV,
      { WARDEN_SOCKET: join(this.dir, 'control.sock'), WARDEN_LOG_DIR: join(this.dir, 'log'), WARDEN_RUN_DIR: join(this.dir, 'run') },
      opts.env ?? {},
    );
    const warden = new Warden(opts.command ?? [process.execPath, WARDEN_MAIN, ...argv], env, this.dir, opts);
    this.wardens.push(warden);
    return warden;
  }

  /** SIGKILLs every warden started here (their namespaces die with them) and removes the dir. */
  async cleanup(): Promise<void> {
    await Promise.all(this.wardens.map((w) => w.kill()));
    // The namespace's last processes may still be writing their files as the kernel kills them:
    // rm retries a dir that a late write filled again (ENOTEMPTY) instead of failing the test.
    await rm(this.dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}

/** Short, explicit timeouts so shutdowns in tests stay quick; a test overrides what it studies. */
const HARNESS_ENV: Readonly<Record<string, string>> = {
  WARDEN_SERVICES_GRACETIME: '3000',
  WARDEN_KILL_GRACETIME: '2000',
  WARDEN_KILL_FINISH_MAXTIME: '5000',
  WARDEN_CMD_WAIT_FOR_SERVICES_MAXTIME: '5000',
  WARDEN_LOG_LEVEL: 'info',
  // s6-overlay's fixed paths under /run: only tests with a private /run (a prelude) turn them on.
  WARDEN_S6_RUNTIME: '0',
};

/** Does `pid` run warden's main (and not a shell or unshare around it)? */
function runsWarden(pid: number, initArgv0?: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (initArgv0 !== undefined) return argv[0] === initArgv0;
    return argv[0] === process.execPath && argv[1] === WARDEN_MAIN;
  } catch {
    return false;
  }
}

/** Writes an executable script: `body` under `#!/bin/sh`, unless it names its own interpreter. */
async function writeScript(file: string, body: string): Promise<void> {
  await writeFile(file, body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
}

export interface ExitResult {
  /** Exit code of warden (unshare passes its child's code on), null if killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One warden running as PID 1 under `unshare`. */
export class Warden {
  readonly events: WardenEvent[] = [];
  /** stderr lines that are not JSON (services write there too) and stdout lines. */
  readonly otherOutput: string[] = [];
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private exit: ExitResult | null = null;
  private readonly exitPromise: Promise<ExitResult>;
  private hostPidCache: number | null = null;
  private nsIdCache: string | null = null;

  private readonly subInit: boolean;

  constructor(
    base: readonly string[],
    env: Record<string, string>,
    cwd: string,
    private readonly opts: Pick<BootOptions, 'prelude' | 'subInit' | 'terminal' | 'user' | 'initArgv0'> = {},
  ) {
    const { prelude, terminal = false, user } = opts;
    this.subInit = opts.subInit ?? false;
    const asUser = user ? ['setpriv', `--reuid=${user.name}`, `--regid=${user.group}`, '--clear-groups'] : [];
    const command = [...asUser, ...base];
    // The prelude's shell execs warden, so warden keeps PID 1 (and the host pid found below).
    const init = prelude === undefined ? command : ['/bin/sh', '-ec', `${prelude}\nexec "$0" "$@"`, ...command];
    // --kill-child: should unshare itself die, the namespace's init gets SIGKILL, never leaks.
    // On a terminal, PID 1 is the session leader holding it (`setsid -c`), as in `docker run -it`.
    const direct = this.subInit
      ? init
      : ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', ...(terminal ? ['setsid', '-c'] : []), ...init];
    // script gives the command a new terminal as its controlling terminal; its shell execs it.
    const [file, ...args] = terminal ? ['script', '-qfec', `exec ${direct.map(sq).join(' ')}`, '/dev/null'] : direct;
    this.child = spawn(file!, args, {
      cwd,
      env,
      stdio: [terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
      this.child.once('error', (err) => {
        this.otherOutput.push(`spawn error: ${err.message}`);
        this.exit = { code: null, signal: null };
        this.notify();
        resolve(this.exit);
      });
    });
    // On a terminal, warden's log, CMD's output and the echo all come through script's stdout.
    splitLines(this.child.stdout!, terminal ? (line) => this.onStderrLine(line.replace(/\r$/, '')) : (line) => this.otherOutput.push(line));
    splitLines(this.child.stderr!, (line) => this.onStderrLine(line));
  }

  /** Types `text` on warden's terminal (only with `terminal`): `\x03` is Ctrl-C. */
  type(text: string): void {
    this.child.stdin!.write(text);
  }

  get exited(): boolean {
    return this.exit !== null;
  }

  private onStderrLine(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = null;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      this.events.push(parsed as WardenEvent);
      this.notify();
    } else {
      this.otherOutput.push(line);
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** The events matching `pred`, in log order. */
  find(pred: EventPredicate): WardenEvent[] {
    return this.events.filter(pred);
  }

  /** Resolves with the first logged event matching `pred` (already logged or to come). */
  waitForEvent(pred: EventPredicate, timeoutMs: number, what = 'an event'): Promise<WardenEvent> {
    return this.waitForEvents(pred, 1, timeoutMs, what).then((found) => found[0]!);
  }

  /** Resolves with the first `count` logged events matching `pred`. */
  waitForEvents(pred: EventPredicate, count: number, timeoutMs: number, what = 'events'): Promise<WardenEvent[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.filter(pred);
        if (found.length >= count) return done(() => resolve(found.slice(0, count)));
        if (this.exit !== null) {
          done(() => reject(new Error(`warden exited (${JSON.stringify(this.exit)}) before ${count} × ${what}; ${this.tail()}`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} × ${what}; ${this.tail()}`))),
        timeoutMs,
      );
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The last log lines, for failure messages. */
  tail(n = 25): string {
    const events = this.events.slice(-n).map((e) => JSON.stringify(e));
    const other = this.otherOutput.slice(-10);
    return `last events:\n  ${events.join('\n  ')}\nother output:\n  ${other.join('\n  ')}`;
  }

  /** Waits for warden to exit; throws after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ExitResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`warden did not exit within ${timeoutMs} ms; ${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exitPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** warden's pid on the host: the first process under the spawned one that runs warden's main. */
  async hostPid(timeoutMs = 10_000): Promise<number> {
    if (this.hostPidCache !== null) return this.hostPidCache;
    const top = this.child.pid;
    if (top === undefined) throw new Error('warden did not start');
    const pid = await eventually(
      'warden on the host',
      () => {
        if (this.exit !== null) throw new Error(`warden exited before its host pid was found; ${this.tail()}`);
        return [top, ...descendants(top)].find((p) => runsWarden(p, this.opts.initArgv0));
      },
      timeoutMs,
      10,
    );
    this.hostPidCache = pid;
    return pid;
  }

  /** The identity of warden's PID namespace (`pid:[inode]`). */
  async namespaceId(): Promise<string> {
    if (this.nsIdCache !== null) return this.nsIdCache;
    const pid = await this.hostPid();
    const id = await readlink(`/proc/${pid}/ns/pid`);
    if (id === (await readlink('/proc/self/ns/pid'))) throw new Error('warden is in the test runner\'s PID namespace');
    this.nsIdCache = id;
    return id;
  }

  /** Sends `signal` to warden (PID 1 inside, its host pid from here). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    process.kill(await this.hostPid(), signal);
  }

  /** Every process in warden's PID namespace, warden included. */
  async processes(): Promise<NsProcess[]> {
    const ns = await this.namespaceId();
    const found: NsProcess[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const hostPid = Number(name);
      try {
        if ((await readlink(`/proc/${hostPid}/ns/pid`)) !== ns) continue;
        const stat = readFileSync(`/proc/${hostPid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const comm = stat.slice(stat.indexOf('(') + 1, close);
        const state = stat.slice(close + 2).split(' ')[0] ?? '?';
        found.push({ hostPid, nsPid: nsPidOf(hostPid) ?? -1, state, comm });
      } catch {
        // It died while we looked: not in the namespace any more.
      }
    }
    return found;
  }

  /** The zombies in warden's namespace right now. */
  async zombies(): Promise<NsProcess[]> {
    return (await this.processes()).filter((p) => p.state === 'Z');
  }

  /** Waits until the namespace has no zombie; the error lists the ones still there. */
  async waitForNoZombies(stallMs: number): Promise<void> {
    let last: NsProcess[] = [];
    try {
      await untilDrained('zombies in the namespace', async () => (last = await this.zombies()).length, 0, stallMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}: e.g. ${JSON.stringify(last.slice(0, 5))}`);
    }
  }


  /** The host pid of the process whose pid inside the namespace is `nsPid`. */
  async hostPidOf(nsPid: number): Promise<number> {
    const match = (await this.processes()).find((p) => p.nsPid === nsPid);
    if (match === undefined) throw new Error(`no process with namespace pid ${nsPid} in warden's namespace`);
    return match.hostPid;
  }

  /** SIGKILLs warden (the namespace dies with its init; a sub-init's descendants are killed too) and waits for unshare to go. */
  async kill(): Promise<void> {
    if (this.exit !== null) return;
    const top = this.child.pid ?? -1;
    const pid = this.hostPidCache ?? [top, ...descendants(top)].find((p) => runsWarden(p, this.opts.initArgv0));
    const left = this.subInit && pid !== undefined ? descendants(pid) : [];
    for (const target of [pid, top, ...left]) {
      if (target === undefined) continue;
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await Promise.race([this.exitPromise, sleep(5000)]);
  }
}


/** The innermost pid of `hostPid` (the NSpid line of /proc/PID/status), or null. */
function nsPidOf(hostPid: number): number | null {
  const status = readFileSync(`/proc/${hostPid}/status`, 'utf8');
  const line = status.split('\n').find((l) => l.startsWith('NSpid:'));
  const last = line?.trim().split(/\s+/).at(-1);
  return last === undefined ? null : Number(last);
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffered !== '') onLine(buffered);
  });
}
