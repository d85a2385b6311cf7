import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { CheckSpec, ListenSpec, RunAs, ServiceSpec } from '../core/service-spec.js';
import { problem, type ConfigProblem } from './config-problem.js';
import { readEnvDir } from './env-dir.js';
import { scriptsFingerprint } from './script-fingerprint.js';
import { describeError, isMissing, readSettingFile } from './read-setting.js';
import { serviceNameError } from './service-name.js';
import {
  parseCheckInterval,
  parseCheckRetries,
  parseCheckTimeout,
  parseDependencies,
  parseDownSignal,
  parseForwardSignals,
  parseMaxDeathTally,
  parseMilliseconds,
  parseWholeNumber,
  parseNotificationFd,
  parseNotifyAccess,
  parseOnExit,
  parseRestart,
  parseRestartDelay,
  type Parsed,
} from './setting-files.js';
import { parseUser, readAccounts } from './user-setting.js';
import { parseListen } from './listen-file.js';
import { nearMiss } from './near-miss.js';
import { readFile } from 'node:fs/promises';

/** Settings that come from outside the service dir. */
export interface ServiceDefaults {
  /** Used when a service has no timeout-kill file. */
  readonly timeoutKillMs: number;
  /** Used when a service has no log-max-bytes file. */
  readonly logMaxBytes: number;
  /** Used when a service has no log-keep file. */
  readonly logKeep: number;
}

/** How a dir is read: an s6 service dir (services.d), or an s6-rc longrun's definition dir. */
export type DirFormat = 's6' | 's6-rc';

/** The files s6-supervise reads in a service dir, and what else s6 keeps there. */
const S6_FILES = ['run', 'finish', 'down', 'notification-fd', 'timeout-kill', 'timeout-finish', 'down-signal', 'max-death-tally', 'nosetsid', 'lock-fd', 'data', 'env', 'log', 'event', 'supervise', 'instance', 'instances', 'template'];
/** warden's own setting files. */
const WARDEN_FILES = ['restart', 'restart-delay', 'restart-reset', 'on-exit', 'check', 'check-interval', 'check-timeout', 'check-retries', 'dependencies', 'user', 'notify-socket', 'log-max-bytes', 'log-keep', 'stop-timeout', 'forward-signals', 'listen'];
/** What s6-rc-compile reads in a definition dir besides s6's files. */
export const S6_RC_FILES = ['type', 'dependencies.d', 'dependencies', 'contents.d', 'contents', 'timeout-up', 'timeout-down', 'flag-essential', 'flag-recommended', 'producer-for', 'consumer-for', 'pipeline-name', 'up', 'reload'];

/** The file names a dir of `format` may hold: a near miss of one of them is reported. */
export function knownFiles(format: DirFormat): string[] {
  return format === 's6' ? [...S6_FILES, ...WARDEN_FILES] : [...S6_FILES, ...WARDEN_FILES, ...S6_RC_FILES];
}

/** A problem for each entry of `names` whose name is one letter or so off a setting's. */
export function nearMissProblems(dir: string, names: Iterable<string>, known: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const name of [...names].sort()) {
    const meant = nearMiss(name, known);
    if (meant !== null) problems.push(problem(join(dir, name), `not a setting file warden or s6 reads: did you mean ${meant}?`));
  }
  return problems;
}

export interface ServiceDirResult {
  readonly spec: ServiceSpec | null;
  readonly problems: ConfigProblem[];
}

/**
 * Checks that `file` is an executable regular file. Mode bits, not access(): warden usually
 * runs as root, and root passes access() checks that say nothing about the file's x bits.
 */
async function executable(file: string, label: string, required: boolean, inListing: boolean, viaShebang = false): Promise<Parsed<string | null>> {
  const bad = (message: string): Parsed<string | null> => ({ ok: false, problems: [problem(file, message)] });
  const missing = (): Parsed<string | null> => (required ? bad(`no ${label} file: a service needs an executable ${label}`) : { ok: true, value: null });
  if (!inListing) return missing();
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if (!isMissing(err)) return bad(describeError(err));
    if (await exists(file)) return bad(`${label} is a symlink to a missing file`);
    return missing();
  }
  if (!st.isFile()) return bad(`${label} is not a regular file: expected an executable`);
  if ((st.mode & 0o111) === 0 && !viaShebang) return bad(`${label} is not executable: run chmod +x ${file}`);
  return { ok: true, value: file };
}

/**
 * How to run `file` when it has no execute bit (s6-rc-compile copies run and finish 0755, so an
 * s6-rc source may ship them without it): its `#!` line, as the kernel reads it — the
 * interpreter and at most one argument, then the file. Empty when the file is executable.
 */
async function viaInterpreter(file: string | null, label: string, problems: ConfigProblem[]): Promise<readonly string[]> {
  if (file === null) return [];
  try {
    if (((await stat(file)).mode & 0o111) !== 0) return [];
    const head = (await readFile(file, 'latin1')).slice(0, 256).split('\n', 1)[0]!;
    if (!head.startsWith('#!')) {
      problems.push(problem(file, `${label} is not executable and has no #! line to run it with: run chmod +x ${file}, or start it with #!/bin/sh`, 1));
      return [];
    }
    const line = head.slice(2).trim();
    const at = line.search(/[ \t]/);
    return at < 0 ? [line] : [line.slice(0, at), line.slice(at).trim()];
  } catch (err) {
    problems.push(problem(file, describeError(err)));
    return [];
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The names in a service dir, read once: a setting that is not there is known to be absent
 * without a stat that fails. Most of a dir's two dozen possible files are absent, and each failed
 * call costs a threadpool round trip and an Error with its stack: with 1 000 services a scan
 * allocated ~30 MB (sampled), and the heap it grew stayed in PID 1's RSS. Null when the dir
 * cannot be listed: every file is then tried, as if listed.
 */
type Listing = ReadonlySet<string> | null;

function listed(listing: Listing, file: string): boolean {
  return listing === null || listing.has(basename(file));
}

/** Is `file` there (a dangling symlink counts)? From the listing when there is one. */
async function present(file: string, listing: Listing): Promise<boolean> {
  return listing === null ? exists(file) : listing.has(basename(file));
}

async function listNames(dir: string): Promise<Listing> {
  try {
    return new Set(await readdir(dir));
  } catch {
    return null;
  }
}

/** Reads an optional setting file: its parsed value, else `fallback` (the caller drops the spec when `problems` grew). */
async function setting<T>(
  file: string,
  fallback: T,
  parse: (file: string, text: string) => Parsed<T>,
  problems: ConfigProblem[],
  listing: Listing,
): Promise<T> {
  if (!listed(listing, file)) return fallback;
  const read = await readSettingFile(file);
  if (read.kind === 'absent') return fallback;
  if (read.kind === 'problem') {
    problems.push(read.problem);
    return fallback;
  }
  const parsed = parse(file, read.text);
  if (parsed.ok) return parsed.value;
  problems.push(...parsed.problems);
  return fallback;
}

/** Reads and validates one service directory; the spec is null when there is any problem. */
export async function loadServiceDir(dir: string, defaults: ServiceDefaults, format: DirFormat = 's6'): Promise<ServiceDirResult> {
  const abs = resolve(dir);
  const name = basename(abs);
  try {
    const st = await stat(abs);
    if (!st.isDirectory()) return { spec: null, problems: [problem(abs, 'is not a directory: a service is a directory')] };
  } catch (err) {
    const message = isMissing(err) ? 'no such service directory' : describeError(err);
    return { spec: null, problems: [problem(abs, message)] };
  }

  const problems: ConfigProblem[] = [];
  const listing = await listNames(abs);
  const nameError = serviceNameError(name);
  if (nameError !== null) problems.push(problem(abs, nameError));

  // `abs` is resolved and the names are warden's own: no path.join (and its normalize) per setting.
  const file = (f: string): string => `${abs}/${f}`;
  const s6rc = format === 's6-rc';
  const run = await executable(file('run'), 'run', true, listed(listing, 'run'), s6rc);
  const finish = await executable(file('finish'), 'finish', false, listed(listing, 'finish'), s6rc);
  const check = await executable(file('check'), 'check', false, listed(listing, 'check'));
  for (const r of [run, finish, check]) if (!r.ok) problems.push(...r.problems);
  if (listing !== null) problems.push(...nearMissProblems(abs, listing, knownFiles(format)));

  const spec: ServiceSpec = {
    name,
    dir: abs,
    run: run.ok && run.value !== null ? run.value : file('run'),
    finish: finish.ok ? finish.value : null,
    runVia: s6rc && run.ok ? await viaInterpreter(run.value, 'run', problems) : [],
    finishVia: s6rc && finish.ok ? await viaInterpreter(finish.value, 'finish', problems) : [],
    // s6-rc-compile drops a source's down file: s6-rc decides what is up (the loader sets this).
    downAtBoot: !s6rc && (await present(file('down'), listing)),
    notificationFd: await setting<number | null>(file('notification-fd'), null, parseNotificationFd, problems, listing),
    timeoutKillMs: await setting(file('timeout-kill'), defaults.timeoutKillMs, (f, t) => parseMilliseconds(f, t, 3000), problems, listing),
    timeoutFinishMs: await setting(file('timeout-finish'), 5000, (f, t) => parseMilliseconds(f, t, 5000), problems, listing),
    downSignal: await setting(file('down-signal'), 'SIGTERM', parseDownSignal, problems, listing),
    maxDeathTally: await setting(file('max-death-tally'), 100, parseMaxDeathTally, problems, listing),
    env: listed(listing, 'env') ? await envInto(file('env'), problems) : {},
    restart: await setting(file('restart'), 'always', parseRestart, problems, listing),
    restartDelay: await setting(file('restart-delay'), { minMs: 0, maxMs: 30000 }, parseRestartDelay, problems, listing),
    restartResetMs: await setting(file('restart-reset'), 10000, (f, t) => parseMilliseconds(f, t, 10000), problems, listing),
    onExit: await setting(file('on-exit'), 'restart', parseOnExit, problems, listing),
    // In an s6-rc dir `dependencies` is s6-rc's own list, read with dependencies.d by the unit loader.
    dependencies: s6rc ? [] : await setting<readonly string[]>(file('dependencies'), [], (f, t) => parseDependencies(f, t, name), problems, listing),
    logLimits: {
      maxBytes: await setting(file('log-max-bytes'), defaults.logMaxBytes, (f, t) => parseWholeNumber(f, t, 'bytes', 4096, 1 << 30), problems, listing),
      keep: await setting(file('log-keep'), defaults.logKeep, (f, t) => parseWholeNumber(f, t, 'archives', 0, 1000), problems, listing),
    },
    // Only files stat'ed as regular above: reading a FIFO named `check` would block the scan.
    scriptsFingerprint: await scriptsFingerprint([run, finish, check].map((r) => (r.ok ? r.value : null))),
    notifySocket: await present(file('notify-socket'), listing),
    notifyAccess: await setting(file('notify-socket'), 'all', parseNotifyAccess, problems, listing),
    // A bad check file is reported once, not again as settings without a check.
    check: check.ok ? await checkSpec(abs, check.value, problems, listing) : null,
    user: (await present(file('user'), listing)) ? await userOf(file('user'), problems, listing) : null,
    forwardSignals: await setting<readonly number[]>(file('forward-signals'), [], parseForwardSignals, problems, listing),
    listen: await setting<readonly ListenSpec[]>(file('listen'), [], parseListen, problems, listing),
  };
  // The held sockets take fds 3 … 3+N-1 of every run: the notification fd must come after them.
  if (spec.notificationFd !== null && spec.listen.length > 0 && spec.notificationFd < 3 + spec.listen.length) {
    problems.push(problem(file('notification-fd'), `is ${spec.notificationFd}, but fds 3 to ${2 + spec.listen.length} are the sockets of ${file('listen')}: use ${3 + spec.listen.length} or more`));
  }
  // Other supervisors' stop timeout is s6's timeout-kill here: say so rather than ignore the file.
  if (await present(file('stop-timeout'), listing)) {
    problems.push(problem(file('stop-timeout'), `warden has no stop-timeout setting: s6's timeout-kill is the time from the down signal to SIGKILL; rename it to ${file('timeout-kill')}`));
  }
  return problems.length > 0 ? { spec: null, problems } : { spec, problems };
}

const CHECK_SETTINGS = ['check-interval', 'check-timeout', 'check-retries'] as const;

/**
 * The `check` probe with its settings. Settings without a `check` file are a problem, not
 * ignored: they are most likely a check saved under another name (`check.sh`).
 */
async function checkSpec(dir: string, file: string | null, problems: ConfigProblem[], listing: Listing): Promise<CheckSpec | null> {
  const path = (f: string): string => join(dir, f);
  if (file === null) {
    for (const name of CHECK_SETTINGS) {
      if (await present(path(name), listing)) {
        problems.push(problem(path(name), `${name} without a check file: add an executable ${path('check')} or remove ${name}`));
      }
    }
    return null;
  }
  return {
    file,
    intervalMs: await setting(path('check-interval'), 5000, parseCheckInterval, problems, listing),
    timeoutMs: await setting(path('check-timeout'), 2000, parseCheckTimeout, problems, listing),
    retries: await setting(path('check-retries'), 3, parseCheckRetries, problems, listing),
  };
}

async function userOf(path: string, problems: ConfigProblem[], listing: Listing): Promise<RunAs | null> {
  const accounts = await readAccounts();
  return setting<RunAs | null>(path, null, (f, t) => parseUser(f, t, accounts), problems, listing);
}

async function envInto(dir: string, problems: ConfigProblem[]): Promise<Readonly<Record<string, string | null>>> {
  const result = await readEnvDir(dir);
  problems.push(...result.problems);
  return result.env;
}
