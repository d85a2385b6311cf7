/**
 * The control protocol between `warden` commands and the running supervisor: one JSON object
 * per line each way over a unix socket. Version 1; documented in docs/control-protocol.md.
 * The CLI imports only this file of the daemon's side.
 */
import { MAX_TIMER_MS } from '../core/timer-limit.js';

export const PROTOCOL_VERSION = 1;
/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;
export const DEFAULT_SOCKET = '/run/warden/control.sock';

/** The control socket: `WARDEN_SOCKET`, else the default. Shared by the daemon and the CLI. */
export function socketPath(env: Readonly<Record<string, string | undefined>>): string {
  return env.WARDEN_SOCKET || DEFAULT_SOCKET;
}

export type WaitCondition = 'up' | 'ready' | 'down';

export type Request =
  | { readonly cmd: 'status'; readonly services: readonly string[] }
  | { readonly cmd: 'up' | 'down' | 'restart' | 'once'; readonly services: readonly string[] }
  | { readonly cmd: 'signal'; readonly signal: string; readonly services: readonly string[] }
  | {
      readonly cmd: 'wait';
      readonly condition: WaitCondition;
      readonly timeoutMs: number;
      readonly services: readonly string[];
      /** Met when any one of the services meets the condition (s6-svwait -o); else all must. */
      readonly any: boolean;
    }
  | { readonly cmd: 'halt'; readonly code: number }
  | { readonly cmd: 'reload' }
  /** Every atom of the unit set (longruns and oneshots) with its state: s6-rc's view. */
  | { readonly cmd: 'units' }
  /**
   * s6-rc's `change`: the named units (bundles stand for their members) up with everything they
   * depend on, or down with everything that depends on them; replies once done or past timeoutMs.
   */
  | { readonly cmd: 'change'; readonly direction: 'up' | 'down'; readonly timeoutMs: number; readonly services: readonly string[] };

export type RequestLine = Request & { readonly v: number; readonly id?: number | string };

export type ErrorCode =
  | 'bad-request'
  | 'unsupported-version'
  | 'unknown-command'
  | 'unknown-service'
  | 'too-large'
  | 'permission-denied'
  | 'timeout'
  | 'shutting-down'
  | 'internal';

export interface ProtocolError {
  readonly code: ErrorCode;
  readonly message: string;
  /** With unknown-service: the services that do exist. */
  readonly known?: readonly string[];
}

export type ReplyLine =
  | { readonly v: number; readonly id: number | string | null; readonly ok: true; readonly result: unknown }
  | { readonly v: number; readonly id: number | string | null; readonly ok: false; readonly error: ProtocolError };

/** One service as `status` reports it: a stable API (`warden status --json`). */
export interface ServiceStatus {
  readonly name: string;
  /** down · spawning · starting · up · stopping · finishing · backoff · waiting (for dependencies) · invalid (cannot start: see `problems`) */
  readonly state: string;
  readonly goal: 'up' | 'down' | 'once';
  readonly pid: number | null;
  /** ms since the current process started, or null when none runs. */
  readonly uptimeMs: number | null;
  /** When it last went up (its process started) or down (its process died), ISO 8601; null before its first start. */
  readonly upDownSince: string | null;
  readonly ready: boolean;
  /** While up: when it became ready; while down: when it was down for good (its finish done). ISO 8601, else null. */
  readonly readySince: string | null;
  /** Started at boot: no `down` file (s6-svstat's "normally up"). */
  readonly normallyUp: boolean;
  readonly restarts: number;
  /** The last death: its exit code, or the signal that killed it. */
  readonly lastExit: { readonly code: number } | { readonly signal: string } | null;
  /** When the next start is due (ISO 8601), while in backoff. */
  readonly backoffUntil: string | null;
  /** Quick deaths in a row. */
  readonly deaths: number;
  readonly crashLoop: boolean;
  /** Why it is down: wanted · exited · permanent-failure; null when not down. */
  readonly downReason: string | null;
  /** The last `STATUS=` the service sent over NOTIFY_SOCKET (cleared at each start), or null. */
  readonly statusText: string | null;
  /** Resident memory of its process and every descendant, bytes; null when none runs. */
  readonly rssBytes: number | null;
  /** CPU time (user + system) of its process tree, ms; null when none runs. */
  readonly cpuMs: number | null;
  /** Share of one CPU its tree used since the previous status (or since it started), percent; null when none runs. */
  readonly cpuPercent: number | null;
  /** Processes in its tree; null when none runs. */
  readonly processes: number | null;
  /** Why an `invalid` service cannot start: its files' problems (path, 1-based line or null, what is wrong); empty otherwise. */
  readonly problems: readonly { readonly file: string; readonly line: number | null; readonly message: string }[];
}

const SERVICE_COMMANDS = new Set(['status', 'up', 'down', 'restart', 'once', 'signal', 'wait', 'change']);
const CONDITIONS = new Set<WaitCondition>(['up', 'ready', 'down']);

const TIMEOUT_RANGE = `"timeoutMs" must be a whole number from 0 (no limit) to ${MAX_TIMER_MS}`;

/**
 * A request's timeoutMs: absent means 0 (no limit); null is not absent: the CLI's NaN arrives as
 * null, and must not turn a typo into "wait for ever". Null when it is not valid.
 */
function parseTimeout(raw: unknown): number | null {
  const timeoutMs = raw === undefined ? 0 : raw;
  return typeof timeoutMs === 'number' && Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS ? timeoutMs : null;
}

function fail(code: ErrorCode, message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: { code, message } };
}

/** Validates one request line; never throws. */
export function parseRequest(
  line: string,
): { ok: true; request: RequestLine } | { ok: false; error: ProtocolError; id?: number | string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return fail('bad-request', 'not JSON: send one JSON object per line');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('bad-request', 'expected a JSON object');
  const obj = raw as Record<string, unknown>;
  const id = typeof obj.id === 'number' || typeof obj.id === 'string' ? obj.id : null;
  const withId = <T extends object>(r: T): T & { id: number | string | null } => ({ ...r, id });
  if (obj.v !== PROTOCOL_VERSION) {
    return withId(fail('unsupported-version', `protocol version ${String(obj.v)} not supported; this warden speaks v${PROTOCOL_VERSION}`));
  }
  const cmd = obj.cmd;
  if (typeof cmd !== 'string') return withId(fail('bad-request', 'missing "cmd"'));
  let services: string[] = [];
  if (SERVICE_COMMANDS.has(cmd)) {
    const list = obj.services ?? [];
    if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string')) {
      return withId(fail('bad-request', '"services" must be an array of names'));
    }
    services = list;
    if (cmd !== 'status' && services.length === 0) return withId(fail('bad-request', `${cmd} needs at least one service`));
  }
  const base = { v: PROTOCOL_VERSION, ...(id === null ? {} : { id }) };
  switch (cmd) {
    case 'status':
    case 'up':
    case 'down':
    case 'restart':
    case 'once':
      return { ok: true, request: { ...base, cmd, services } };
    case 'signal':
      if (typeof obj.signal !== 'string' || obj.signal === '') return withId(fail('bad-request', 'signal needs "signal"'));
      return { ok: true, request: { ...base, cmd, services, signal: obj.signal } };
    case 'wait': {
      const condition = obj.condition ?? 'up';
      if (typeof condition !== 'string' || !CONDITIONS.has(condition as WaitCondition)) {
        return withId(fail('bad-request', '"condition" must be up, ready or down'));
      }
      const timeoutMs = parseTimeout(obj.timeoutMs);
      if (timeoutMs === null) return withId(fail('bad-request', TIMEOUT_RANGE));
      const any = obj.any ?? false;
      if (typeof any !== 'boolean') return withId(fail('bad-request', '"any" must be true or false'));
      return { ok: true, request: { ...base, cmd, services, condition: condition as WaitCondition, timeoutMs, any } };
    }
    case 'halt': {
      // As above: a null code (the CLI's NaN) must not halt the container with 0.
      const code = obj.code === undefined ? 0 : obj.code;
      if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) {
        return withId(fail('bad-request', '"code" must be a whole number from 0 to 255'));
      }
      return { ok: true, request: { ...base, cmd, code } };
    }
    case 'reload':
    case 'units':
      return { ok: true, request: { ...base, cmd } };
    case 'change': {
      const direction = obj.direction;
      if (direction !== 'up' && direction !== 'down') return withId(fail('bad-request', '"direction" must be up or down'));
      const timeoutMs = parseTimeout(obj.timeoutMs);
      if (timeoutMs === null) return withId(fail('bad-request', TIMEOUT_RANGE));
      return { ok: true, request: { ...base, cmd, services, direction, timeoutMs } };
    }
    default:
      return withId(fail('unknown-command', `unknown command "${cmd}"`));
  }
}
