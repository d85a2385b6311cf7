/**
 * s6-overlay's S6_* variables, read once at boot: each one that maps onto a warden setting
 * gives that setting's value when the WARDEN_* variable is unset; each one warden cannot honour
 * gets one log line saying so. Images moved from s6-overlay keep their ENV lines unchanged.
 */
import { MAX_TIMER_MS } from '../core/timer-limit.js';
import type { ConsoleFormat } from '../core/service-spec.js';

/** What a failing cont-init.d script or oneshot does (S6_BEHAVIOUR_IF_STAGE2_FAILS 0 · 1 · 2). */
export type Stage2Failure = 'continue-silently' | 'continue' | 'stop';

/** One line for the boot log about an S6_* variable. */
export interface OverlayNote {
  readonly variable: string;
  readonly value: string;
  readonly honoured: boolean;
  readonly message: string;
}

export interface OverlaySettings {
  readonly servicesGraceMs?: number;
  readonly killGraceMs?: number;
  readonly contFinishMaxMs?: number;
  /** Infinity for S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0 (s6-rc's "no timeout"). */
  readonly cmdWaitMs?: number;
  /** S6_CMD_WAIT_FOR_SERVICES above 0: the bring-up waits for services.d services to be up (ready with notification-fd). */
  readonly waitForLegacyServices: boolean;
  readonly stage2Failure?: Stage2Failure;
  readonly logLevel?: string;
  readonly consoleFormat?: ConsoleFormat;
  readonly logDir?: string;
  readonly syncDisks: boolean;
  /** Words put before CMD (S6_CMD_ARG0, split on blanks as s6-overlay's shell does). */
  readonly cmdArg0: readonly string[];
  /** The s6-overlay dir of S6_RUNTIME_PROFILE (`/etc/cont-profile.d/PROFILE`): s6-rc.d, cont-init.d … under it. */
  readonly profileEtc?: string;
  /** S6_RUNTIME_BUNDLEDIR: where `user` and `user2` are defined. */
  readonly bundleDir?: string;
  /** S6_FIX_ATTRS_HIDDEN: fix-attrs.d walks into hidden entries too. */
  readonly fixAttrsHidden: boolean;
  /** S6_STAGE2_HOOK: a command run before the services (split on blanks, as rc.init does). */
  readonly stage2Hook: readonly string[];
  /** S6_CMD_RECEIVE_SIGNALS: while CMD runs, the signals that would stop the container go to CMD instead. */
  readonly cmdReceivesSignals: boolean;
  /** S6_WAIT_FOR_CLOSING_FD: boot waits for EOF on this fd (3 or more) before stage 2; null: it does not wait. */
  readonly waitForClosingFd: number | null;
  readonly notes: readonly OverlayNote[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** S6_* ms variables and the warden setting each one stands for. */
const MS_VARIABLES = {
  S6_SERVICES_GRACETIME: ['servicesGraceMs', 'WARDEN_SERVICES_GRACETIME'],
  S6_KILL_GRACETIME: ['killGraceMs', 'WARDEN_KILL_GRACETIME'],
  S6_KILL_FINISH_MAXTIME: ['contFinishMaxMs', 'WARDEN_KILL_FINISH_MAXTIME'],
  S6_CMD_WAIT_FOR_SERVICES_MAXTIME: ['cmdWaitMs', 'WARDEN_CMD_WAIT_FOR_SERVICES_MAXTIME'],
} as const;

/** Variables warden knows and does not honour, with why (anything else S6_* gets a generic line). */
const IGNORED: Readonly<Record<string, string>> = {
  S6_CMD_USE_TERMINAL: 'CMD always shares the container\'s stdout and stderr',
  S6_CATCHALL_USER: 'warden has no catch-all logger process: services\' output goes to WARDEN_LOG_DIR, written by warden',
  S6_SERVICES_READYTIME: 'not needed: warden knows when a services.d service has started, there is no race to sleep over',
  S6_LOGGING_SCRIPT: 'services\' logs rotate by WARDEN_LOG_MAX_BYTES and WARDEN_LOG_KEEP (or log-max-bytes / log-keep files)',
  S6_YES_I_WANT_A_WORLD_WRITABLE_RUN_BECAUSE_KUBERNETES: 'warden does not change the mode of /run',
};

const HANDLED = new Set([
  ...Object.keys(MS_VARIABLES),
  'S6_KEEP_ENV',
  'S6_BEHAVIOUR_IF_STAGE2_FAILS',
  'S6_VERBOSITY',
  'S6_LOGGING',
  'S6_READ_ONLY_ROOT',
  'S6_SYNC_DISKS',
  'S6_CMD_ARG0',
  'S6_RUNTIME_PROFILE',
  'S6_RUNTIME_BUNDLEDIR',
  'S6_FIX_ATTRS_HIDDEN',
  'S6_STAGE2_HOOK',
  'S6_CMD_RECEIVE_SIGNALS',
  'S6_WAIT_FOR_CLOSING_FD',
  'S6_CMD_WAIT_FOR_SERVICES',
]);

/** Reads the S6_* variables of `env`; never throws: a bad value is ignored with a note. */
export function overlaySettings(env: Env): OverlaySettings {
  const notes: OverlayNote[] = [];
  const note = (variable: string, honoured: boolean, message: string): void =>
    void notes.push({ variable, value: env[variable] ?? '', honoured, message });
  const set = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const out: { -readonly [K in keyof OverlaySettings]: OverlaySettings[K] } = { syncDisks: false, cmdArg0: [], notes, fixAttrsHidden: false, stage2Hook: [], cmdReceivesSignals: false, waitForClosingFd: null, waitForLegacyServices: false };

  for (const [variable, [field, warden]] of Object.entries(MS_VARIABLES)) {
    const raw = set(variable);
    if (raw === undefined) continue;
    if (set(warden) !== undefined) {
      note(variable, false, `ignored: ${warden} is set and wins`);
    } else if (!/^\d+$/.test(raw)) {
      note(variable, false, 'ignored: expected a whole number of milliseconds');
    } else if (Number(raw) > MAX_TIMER_MS) {
      note(variable, false, `ignored: expected at most ${MAX_TIMER_MS} ms (about 24.8 days)`);
    } else {
      const ms = Number(raw);
      // s6-rc -t 0 waits for ever; warden's own 0 means "do not wait".
      out[field] = field === 'cmdWaitMs' && ms === 0 ? Infinity : ms;
      note(variable, true, `used as ${warden}${field === 'cmdWaitMs' && ms === 0 ? ' (0: wait for ever, as s6-rc does)' : ''}`);
    }
  }

  const waitLegacy = set('S6_CMD_WAIT_FOR_SERVICES');
  if (waitLegacy !== undefined) {
    if (!/^\d+$/.test(waitLegacy)) note('S6_CMD_WAIT_FOR_SERVICES', false, 'ignored: expected a whole number; services.d services are started and not waited for');
    else {
      out.waitForLegacyServices = Number(waitLegacy) > 0;
      note(
        'S6_CMD_WAIT_FOR_SERVICES',
        true,
        out.waitForLegacyServices
          ? 'the bring-up (and so CMD) waits for services.d services to be up, and ready where they have notification-fd (up to S6_CMD_WAIT_FOR_SERVICES_MAXTIME)'
          : 'services.d services are started and not waited for (s6-overlay\'s default)',
      );
    }
  }

  const keepEnv = set('S6_KEEP_ENV');
  if (keepEnv !== undefined) {
    if (keepEnv === '0') note('S6_KEEP_ENV', true, 'with-contenv gives scripts the saved container environment (the default); scripts without with-contenv see it too (under s6-overlay an almost empty one)');
    else note('S6_KEEP_ENV', true, 'services see the container environment; with-contenv passes it on unchanged');
  }

  const stage2 = set('S6_BEHAVIOUR_IF_STAGE2_FAILS');
  if (stage2 !== undefined) {
    const mode = ({ '0': 'continue-silently', '1': 'continue', '2': 'stop' } as const)[stage2];
    if (mode === undefined) note('S6_BEHAVIOUR_IF_STAGE2_FAILS', false, 'ignored: expected 0, 1 or 2; the default applies (0 under an s6-overlay layout, else 2)');
    else {
      out.stage2Failure = mode;
      note('S6_BEHAVIOUR_IF_STAGE2_FAILS', true, `a failing cont-init.d script or oneshot ${mode === 'stop' ? 'stops the container' : mode === 'continue' ? 'is logged with a warning and boot goes on' : 'is logged and boot goes on'}`);
    }
  }

  const verbosity = set('S6_VERBOSITY');
  if (verbosity !== undefined) {
    if (set('WARDEN_LOG_LEVEL') !== undefined) note('S6_VERBOSITY', false, 'ignored: WARDEN_LOG_LEVEL is set and wins');
    else if (!/^\d+$/.test(verbosity)) note('S6_VERBOSITY', false, 'ignored: expected a whole number');
    else {
      out.logLevel = (['error', 'warn', 'info'] as const)[Number(verbosity)] ?? 'debug';
      note('S6_VERBOSITY', true, `WARDEN_LOG_LEVEL=${out.logLevel}`);
    }
  }

  const logging = set('S6_LOGGING');
  if (logging !== undefined) {
    if (set('WARDEN_CONSOLE_FORMAT') !== undefined) note('S6_LOGGING', false, 'ignored: WARDEN_CONSOLE_FORMAT is set and wins');
    else if (logging === '1') {
      // 1: to the catch-all log only, not the container's stdout; warden's files are that log.
      out.consoleFormat = 'none';
      note('S6_LOGGING', true, 'services\' output goes to the log files in WARDEN_LOG_DIR only (WARDEN_CONSOLE_FORMAT=none)');
    } else if (logging === '0' || logging === '2') {
      note('S6_LOGGING', true, 'services\' output goes to the container\'s stdout (and the log files in WARDEN_LOG_DIR)');
    } else note('S6_LOGGING', false, 'ignored: expected 0, 1 or 2');
  }

  const readOnly = set('S6_READ_ONLY_ROOT');
  if (readOnly !== undefined && readOnly !== '0') {
    if (set('WARDEN_LOG_DIR') === undefined) out.logDir = '/run/warden/log';
    note('S6_READ_ONLY_ROOT', true, `warden writes only under /run${out.logDir ? ` (service logs in ${out.logDir})` : ' and WARDEN_LOG_DIR'}`);
  }

  const sync = set('S6_SYNC_DISKS');
  if (sync !== undefined && sync !== '0') {
    out.syncDisks = true;
    note('S6_SYNC_DISKS', true, 'filesystems are synced before exit');
  }

  const arg0 = set('S6_CMD_ARG0');
  if (arg0 !== undefined) {
    out.cmdArg0 = arg0.split(/\s+/);
    note('S6_CMD_ARG0', true, 'put before CMD');
  }

  const profile = set('S6_RUNTIME_PROFILE');
  if (profile !== undefined) {
    out.profileEtc = `/etc/cont-profile.d/${profile}`;
    note('S6_RUNTIME_PROFILE', true, `s6-overlay/s6-rc.d, cont-init.d, services.d, cont-finish.d and fix-attrs.d are read under ${out.profileEtc}`);
  }

  const bundleDir = set('S6_RUNTIME_BUNDLEDIR');
  if (bundleDir !== undefined) {
    out.bundleDir = bundleDir;
    note('S6_RUNTIME_BUNDLEDIR', true, `the user and user2 bundles are read from ${bundleDir} (unless an s6-rc.d defines user, as in s6-overlay)`);
  }

  const hidden = set('S6_FIX_ATTRS_HIDDEN');
  if (hidden !== undefined) {
    out.fixAttrsHidden = /^\d+$/.test(hidden) && Number(hidden) > 0;
    note('S6_FIX_ATTRS_HIDDEN', true, out.fixAttrsHidden ? 'fix-attrs.d walks into hidden files and dirs too' : 'fix-attrs.d leaves hidden files and dirs alone');
  }

  const hook = set('S6_STAGE2_HOOK');
  if (hook !== undefined) {
    out.stage2Hook = hook.split(/\s+/);
    note('S6_STAGE2_HOOK', true, 'run before the services; a failure counts as a stage 2 failure (S6_BEHAVIOUR_IF_STAGE2_FAILS)');
  }

  const receive = set('S6_CMD_RECEIVE_SIGNALS');
  if (receive !== undefined) {
    if (!/^\d+$/.test(receive)) note('S6_CMD_RECEIVE_SIGNALS', false, 'ignored: expected a whole number');
    else {
      out.cmdReceivesSignals = Number(receive) > 0;
      note('S6_CMD_RECEIVE_SIGNALS', true, out.cmdReceivesSignals ? 'while CMD runs, SIGTERM, SIGQUIT, SIGINT, SIGUSR1, SIGUSR2, SIGPWR and SIGWINCH go to CMD instead; the container stops when CMD exits' : 'signals to the container stop it (CMD last)');
    }
  }

  const closing = set('S6_WAIT_FOR_CLOSING_FD');
  if (closing !== undefined) {
    if (!/^\d+$/.test(closing)) note('S6_WAIT_FOR_CLOSING_FD', false, 'ignored: expected a whole number');
    else if (Number(closing) < 3) note('S6_WAIT_FOR_CLOSING_FD', true, 'below 3: boot does not wait (as s6-overlay)');
    else {
      out.waitForClosingFd = Number(closing);
      note('S6_WAIT_FOR_CLOSING_FD', true, `boot waits until fd ${closing} reads end of file before running stage 2`);
    }
  }

  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('S6_') || HANDLED.has(variable) || set(variable) === undefined) continue;
    note(variable, false, `ignored: ${IGNORED[variable] ?? 'warden does not know this s6-overlay setting'}`);
  }
  return out;
}
