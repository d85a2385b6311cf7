/** The settings of `warden boot`, from its flags and WARDEN_* variables, validated once here. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RUN_DIR, socketPath } from '../protocol/socket-path.js';
import type { ConsoleFormat } from '../core/service-spec.js';
import { overlaySettings, type OverlayNote, type Stage2Failure } from './overlay-env.js';
import { siblingBundleDirs, type UnitLayout } from './load-units.js';
import { MAX_TIMER_MS } from '../core/timer-limit.js';
import type { ServiceDefaults } from './service-dir.js';

export interface BootSettings {
  /** Service dirs, read in order (a name in an earlier dir wins). */
  readonly serviceDirs: readonly string[];
  readonly contInitDirs: readonly string[];
  readonly contFinishDirs: readonly string[];
  /** fix-attrs.d dirs (s6-overlay's, default /etc/fix-attrs.d). */
  readonly fixAttrsDirs: readonly string[];
  /** user-bundles.d dirs: where `user` and `user2` are defined when no s6-rc dir defines `user`. */
  readonly bundleDirs: readonly string[];
  /** Dirs named by flags: one that does not exist is reported at boot. */
  readonly requiredDirs: readonly string[];
  /** The tree uses s6-overlay's paths (an s6-rc.d, cont-init.d, services.d …): s6-overlay's defaults apply. */
  readonly overlayLayout: boolean;
  /**
   * The bring-up waits for the services.d services to be up and ready. Under s6-overlay's layout
   * only with S6_CMD_WAIT_FOR_SERVICES=1, as its services-up; warden's own layout always waits.
   */
  readonly waitForLegacyServices: boolean;
  /** S6_FIX_ATTRS_HIDDEN. */
  readonly fixAttrsHidden: boolean;
  /** S6_STAGE2_HOOK, split into argv; empty for none. */
  readonly stage2Hook: readonly string[];
  /** CMD: the main program; its exit ends the container. Empty for none. */
  readonly command: readonly string[];
  /** Grace after a service's down signal before SIGKILL, when it has no `timeout-kill`. */
  readonly servicesGraceMs: number;
  /** Grace after the final SIGTERM to every process left before SIGKILL. */
  readonly killGraceMs: number;
  /** How long each cont-finish.d script may run. */
  readonly contFinishMaxMs: number;
  /** How long CMD waits for the services to be ready (0 = do not wait). */
  readonly cmdWaitMs: number;
  /** The control socket (`WARDEN_SOCKET`). */
  readonly socketPath: string;
  /** Service log files go to LOGDIR/NAME/current (`WARDEN_LOG_DIR`). */
  readonly logDir: string;
  /** How services' lines appear on the container's stdout (`--log-format`, `WARDEN_CONSOLE_FORMAT`). */
  readonly consoleFormat: ConsoleFormat;
  readonly serviceDefaults: ServiceDefaults;
  /** s6-rc source dirs (`--s6-rc`, default /etc/s6-overlay/s6-rc.d): their `user` bundle starts. */
  readonly s6RcDirs: readonly string[];
  /** S6_CMD_RECEIVE_SIGNALS: while CMD runs, the signals that would stop the container go to CMD. */
  readonly cmdReceivesSignals: boolean;
  /** S6_WAIT_FOR_CLOSING_FD: boot waits for EOF on this fd before stage 2; null: no wait. */
  readonly waitForClosingFd: number | null;
  /** What a failing cont-init.d script or oneshot does (S6_BEHAVIOUR_IF_STAGE2_FAILS; default: 0 under an s6-overlay layout, else stop). */
  readonly stage2Failure: Stage2Failure;
  /** warden's runtime dir (`WARDEN_RUN_DIR`): `container_environment/` is written there. */
  readonly runDir: string;
  /**
   * Write s6-overlay's runtime files too: /run/s6/container_environment, the results dir
   * /run/s6-linux-init-container-results, /run/s6/basedir/bin/halt (`WARDEN_S6_RUNTIME`, default on).
   */
  readonly s6Runtime: boolean;
  /** The execlineb that runs oneshot scripts needing execline (`WARDEN_EXECLINEB`). */
  readonly execlineb: string;
  /** `WARDEN_METRICS_ADDR` (HOST:PORT): serve Prometheus metrics there; null: off. */
  readonly metricsAddr: string | null;
  /** sync() before exit (S6_SYNC_DISKS). */
  readonly syncDisks: boolean;
  /** One boot log line each: the S6_* variables set, honoured or not. */
  readonly overlayNotes: readonly OverlayNote[];
  /** What SIGHUP does (`WARDEN_HUP`): forwarded (default with a CMD) or rescan (default without). */
  readonly hup: HupAction;
  /** `WARDEN_HUP` was set, rather than chosen from whether there is a CMD. */
  readonly hupChosen: boolean;
}

export type HupAction = 'forward' | 'rescan';

function hupAction(env: Readonly<Record<string, string | undefined>>, hasCommand: boolean): HupAction {
  const raw = env.WARDEN_HUP?.trim();
  if (raw === undefined || raw === '') return hasCommand ? 'forward' : 'rescan';
  if (raw === 'forward' || raw === 'rescan') return raw;
  throw new UsageError(`WARDEN_HUP=${raw}: expected forward or rescan`);
}

export const DEFAULT_SERVICE_DIRS = ['/etc/warden/services.d', '/etc/services.d'];
export const DEFAULT_CONT_INIT_DIRS = ['/etc/warden/cont-init.d', '/etc/cont-init.d'];
export const DEFAULT_CONT_FINISH_DIRS = ['/etc/warden/cont-finish.d', '/etc/cont-finish.d'];

/** s6-overlay's own dirs under its etc (/etc, or /etc/cont-profile.d/PROFILE). */
function overlayDirs(etc: string) {
  return {
    s6Rc: join(etc, 's6-overlay/s6-rc.d'),
    services: join(etc, 'services.d'),
    contInit: join(etc, 'cont-init.d'),
    contFinish: join(etc, 'cont-finish.d'),
    fixAttrs: join(etc, 'fix-attrs.d'),
  };
}

/** warden's log level: `WARDEN_LOG_LEVEL`, else from S6_VERBOSITY, else info. */
export function logLevel(env: Readonly<Record<string, string | undefined>>): string {
  return env.WARDEN_LOG_LEVEL || overlaySettings(env).logLevel || 'info';
}

/** A setting warden cannot use: the message says which and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads a whole number of milliseconds from `env[name]`, or `fallback` when unset or empty. */
export function envMs(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name}=${raw}: expected a whole number of milliseconds`);
  if (Number(raw) > MAX_TIMER_MS) throw new UsageError(`${name}=${raw}: expected at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest a timer can wait)`);
  return Number(raw);
}

/** Reads a whole number in [min, max] from `env[name]`, or `fallback` when unset or empty. */
function envWhole(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, unit: string, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${name}=${raw}: expected a whole number of ${unit} from ${min} to ${max}`);
  }
  return Number(raw);
}

/** What a service without its own setting files gets; `warden check` applies the same. */
export function serviceDefaults(env: Readonly<Record<string, string | undefined>>): ServiceDefaults {
  return {
    timeoutKillMs: envMs(env, 'WARDEN_SERVICES_GRACETIME', overlaySettings(env).servicesGraceMs ?? 3000),
    // 10 × 1 MiB: s6-log's 10 × 99999 bytes holds only ~1 000 lines of a chatty app.
    // The same bounds as a service's own log-max-bytes and log-keep files.
    logMaxBytes: envWhole(env, 'WARDEN_LOG_MAX_BYTES', 1024 * 1024, 'bytes', 4096, 1 << 30),
    logKeep: envWhole(env, 'WARDEN_LOG_KEEP', 10, 'archives', 0, 1000),
  };
}

function consoleFormat(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, fallback: ConsoleFormat): ConsoleFormat {
  const chosen = flag ?? env.WARDEN_CONSOLE_FORMAT ?? fallback;
  if (chosen === 'prefix' || chosen === 'json' || chosen === 'none') return chosen;
  throw new UsageError(`log format ${JSON.stringify(chosen)}: expected prefix, json or none`);
}

export interface BootFlags {
  readonly services?: readonly string[];
  readonly contInit?: readonly string[];
  readonly contFinish?: readonly string[];
  readonly s6Rc?: readonly string[];
  readonly logFormat?: string;
  readonly command: readonly string[];
}

/**
 * The settings of `warden boot` (and of `warden check` with the same flags). `root` prefixes the
 * default dirs (`warden check --root DIR` reads an image's tree unpacked there); `exists` tells
 * whether a path is there, to recognise an s6-overlay layout.
 */
export function bootSettings(
  flags: BootFlags,
  env: Readonly<Record<string, string | undefined>>,
  root = '/',
  exists: (path: string) => boolean = existsSync,
): BootSettings {
  const nonEmpty = (list: readonly string[] | undefined, fallback: readonly string[]): readonly string[] =>
    list && list.length > 0 ? list : fallback;
  const overlay = overlaySettings(env);
  const runDir = env.WARDEN_RUN_DIR || DEFAULT_RUN_DIR;
  const at = (path: string): string => join(root, path);
  const etc = overlayDirs(at(overlay.profileEtc ?? '/etc'));
  const warden = (dirs: readonly string[]): string[] => dirs.filter((d) => d.startsWith('/etc/warden/')).map(at);
  const serviceDirs = nonEmpty(flags.services, [...warden(DEFAULT_SERVICE_DIRS), etc.services]);
  const contInitDirs = nonEmpty(flags.contInit, [...warden(DEFAULT_CONT_INIT_DIRS), etc.contInit]);
  const contFinishDirs = nonEmpty(flags.contFinish, [...warden(DEFAULT_CONT_FINISH_DIRS), etc.contFinish]);
  const s6RcDirs = nonEmpty(flags.s6Rc, [etc.s6Rc]);
  const fixAttrsDirs = [etc.fixAttrs];
  // s6-overlay's paths in use: its defaults (S6_BEHAVIOUR_IF_STAGE2_FAILS=0) apply, as the image expects.
  const overlayLayout =
    (flags.s6Rc ?? []).length > 0 ||
    [etc.s6Rc, etc.fixAttrs, ...[etc.services, etc.contInit, etc.contFinish].filter((d) => [...serviceDirs, ...contInitDirs, ...contFinishDirs].includes(d))].some(exists);
  return {
    serviceDirs,
    contInitDirs,
    contFinishDirs,
    fixAttrsDirs,
    bundleDirs: overlay.bundleDir !== undefined ? [at(overlay.bundleDir)] : siblingBundleDirs(s6RcDirs),
    requiredDirs: [...(flags.services ?? []), ...(flags.s6Rc ?? []), ...(flags.contInit ?? []), ...(flags.contFinish ?? [])],
    overlayLayout,
    waitForLegacyServices: !overlayLayout || overlay.waitForLegacyServices,
    fixAttrsHidden: overlay.fixAttrsHidden,
    stage2Hook: overlay.stage2Hook,
    cmdReceivesSignals: overlay.cmdReceivesSignals,
    waitForClosingFd: overlay.waitForClosingFd,
    // S6_CMD_ARG0 goes before CMD only: without CMD there is nothing to prefix.
    command: flags.command.length > 0 ? [...overlay.cmdArg0, ...flags.command] : [],
    servicesGraceMs: envMs(env, 'WARDEN_SERVICES_GRACETIME', overlay.servicesGraceMs ?? 3000),
    killGraceMs: envMs(env, 'WARDEN_KILL_GRACETIME', overlay.killGraceMs ?? 3000),
    contFinishMaxMs: envMs(env, 'WARDEN_KILL_FINISH_MAXTIME', overlay.contFinishMaxMs ?? 5000),
    // s6-overlay waits for ever by default (since 3.1.6.2); warden's own default is 5 s.
    cmdWaitMs: envMs(env, 'WARDEN_CMD_WAIT_FOR_SERVICES_MAXTIME', overlay.cmdWaitMs ?? (overlayLayout ? Infinity : 5000)),
    socketPath: socketPath(env),
    logDir: env.WARDEN_LOG_DIR || overlay.logDir || '/var/log/warden',
    consoleFormat: consoleFormat(flags.logFormat, env, overlay.consoleFormat ?? 'prefix'),
    serviceDefaults: serviceDefaults(env),
    s6RcDirs,
    stage2Failure: overlay.stage2Failure ?? (overlayLayout ? 'continue-silently' : 'stop'),
    runDir,
    s6Runtime: env.WARDEN_S6_RUNTIME !== '0',
    execlineb: env.WARDEN_EXECLINEB || 'execlineb',
    syncDisks: overlay.syncDisks,
    metricsAddr: env.WARDEN_METRICS_ADDR?.trim() || null,
    overlayNotes: overlay.notes,
    hup: hupAction(env, flags.command.length > 0),
    hupChosen: (env.WARDEN_HUP?.trim() ?? '') !== '',
  };
}

/** Where the units of `settings` come from; `overlaySources` are s6-overlay's sources dirs found in the image. */
export function unitLayout(settings: BootSettings, overlaySources: readonly string[]): UnitLayout {
  return {
    serviceDirs: settings.serviceDirs,
    s6RcDirs: settings.s6RcDirs,
    bundleDirs: settings.bundleDirs,
    overlaySourcesDirs: overlaySources,
    required: settings.requiredDirs,
    waitForLegacyServices: settings.waitForLegacyServices,
  };
}
