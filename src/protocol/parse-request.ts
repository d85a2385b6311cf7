/**
 * The one place a request's shape is decided: a request line → a typed `RequestLine`, or the
 * error to reply with. One parser per command, in a table the compiler holds to `Commands`.
 */
import { MAX_TIMER_MS } from '../core/timer-limit.js';
import { failure, type Failure, type ProtocolError } from './reply.js';
import { PROTOCOL_VERSION, type Command, type RequestLine, type RequestOf, type WaitCondition } from './commands.js';
import { normalizeSignal } from './signal-name.js';

type Fields = Readonly<Record<string, unknown>>;
type Parsed<C extends Command> = { readonly ok: true; readonly request: RequestOf<C> } | Failure;

const CONDITIONS: ReadonlySet<string> = new Set<WaitCondition>(['up', 'ready', 'down']);

const TIMEOUT_RANGE = `"timeoutMs" must be a whole number from 0 (no limit) to ${MAX_TIMER_MS}`;

/**
 * A request's timeoutMs: absent means 0 (no limit); null is not absent: the CLI's NaN arrives as
 * null, and must not turn a typo into "wait for ever". Null when it is not valid.
 */
function parseTimeout(raw: unknown): number | null {
  const timeoutMs = raw === undefined ? 0 : raw;
  return typeof timeoutMs === 'number' && Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS ? timeoutMs : null;
}

/** The `services` list: absent is empty; only `status` may leave it empty (it means all). */
function parseServices(cmd: Command, obj: Fields): { ok: true; services: string[] } | Failure {
  const list = obj.services ?? [];
  if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string')) return failure('bad-request', '"services" must be an array of names');
  if (cmd !== 'status' && list.length === 0) return failure('bad-request', `${cmd} needs at least one service`);
  return { ok: true, services: list };
}

/** A command that names services and nothing else. */
function servicesOnly<C extends 'status' | 'up' | 'down' | 'restart' | 'once'>(cmd: C): (obj: Fields) => Parsed<C> {
  return (obj) => {
    const found = parseServices(cmd, obj);
    return found.ok ? { ok: true, request: { cmd, services: found.services } as RequestOf<C> } : found;
  };
}

const PARSERS: { readonly [C in Command]: (obj: Fields) => Parsed<C> } = {
  status: servicesOnly('status'),
  up: servicesOnly('up'),
  down: servicesOnly('down'),
  restart: servicesOnly('restart'),
  once: servicesOnly('once'),
  signal: (obj) => {
    const found = parseServices('signal', obj);
    if (!found.ok) return found;
    if (typeof obj.signal !== 'string' || obj.signal === '') return failure('bad-request', 'signal needs "signal"');
    const signal = normalizeSignal(obj.signal);
    if (signal === null) return failure('bad-request', `unknown signal ${obj.signal}`);
    return { ok: true, request: { cmd: 'signal', services: found.services, signal } };
  },
  wait: (obj) => {
    const found = parseServices('wait', obj);
    if (!found.ok) return found;
    const condition = obj.condition ?? 'up';
    if (typeof condition !== 'string' || !CONDITIONS.has(condition)) return failure('bad-request', '"condition" must be up, ready or down');
    const timeoutMs = parseTimeout(obj.timeoutMs);
    if (timeoutMs === null) return failure('bad-request', TIMEOUT_RANGE);
    const any = obj.any ?? false;
    if (typeof any !== 'boolean') return failure('bad-request', '"any" must be true or false');
    return { ok: true, request: { cmd: 'wait', services: found.services, condition: condition as WaitCondition, timeoutMs, any } };
  },
  halt: (obj) => {
    // As with timeoutMs: a null code (the CLI's NaN) must not halt the container with 0.
    const code = obj.code === undefined ? 0 : obj.code;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) return failure('bad-request', '"code" must be a whole number from 0 to 255');
    return { ok: true, request: { cmd: 'halt', code } };
  },
  reload: () => ({ ok: true, request: { cmd: 'reload' } }),
  units: () => ({ ok: true, request: { cmd: 'units' } }),
  change: (obj) => {
    const found = parseServices('change', obj);
    if (!found.ok) return found;
    const direction = obj.direction;
    if (direction !== 'up' && direction !== 'down') return failure('bad-request', '"direction" must be up or down');
    const timeoutMs = parseTimeout(obj.timeoutMs);
    if (timeoutMs === null) return failure('bad-request', TIMEOUT_RANGE);
    return { ok: true, request: { cmd: 'change', services: found.services, direction, timeoutMs } };
  },
};

/** Every command, in the order of `Commands`. */
export const COMMANDS = Object.keys(PARSERS) as readonly Command[];

function isCommand(cmd: string): cmd is Command {
  // Own keys only: "constructor" or "toString" is no command.
  return Object.prototype.hasOwnProperty.call(PARSERS, cmd);
}

/** Validates one request line; never throws. */
export function parseRequest(line: string): { ok: true; request: RequestLine } | { ok: false; error: ProtocolError; id?: number | string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return failure('bad-request', 'not JSON: send one JSON object per line');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return failure('bad-request', 'expected a JSON object');
  const obj = raw as Fields;
  const id = typeof obj.id === 'number' || typeof obj.id === 'string' ? obj.id : null;
  if (obj.v !== PROTOCOL_VERSION) {
    return { ...failure('unsupported-version', `protocol version ${String(obj.v)} not supported; this warden speaks v${PROTOCOL_VERSION}`), id };
  }
  const cmd = obj.cmd;
  if (typeof cmd !== 'string') return { ...failure('bad-request', 'missing "cmd"'), id };
  if (!isCommand(cmd)) return { ...failure('unknown-command', `unknown command "${cmd}"`), id };
  const parsed = PARSERS[cmd](obj);
  if (!parsed.ok) return { ...parsed, id };
  return { ok: true, request: { v: PROTOCOL_VERSION, ...(id === null ? {} : { id }), ...parsed.request } };
}
