/** What the supervisor answers: one reply line per request, a result or an error. */
import { PROTOCOL_VERSION } from './commands.js';

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

/** A reply's outcome: the command's result, or why it failed. */
export type Reply<Result = unknown> = { readonly ok: true; readonly result: Result } | { readonly ok: false; readonly error: ProtocolError };

/** A failed reply. */
export type Failure = Extract<Reply, { readonly ok: false }>;

/** A reply as sent: its outcome with the version and the request's id (null when it had none). */
export type ReplyLine = Reply & { readonly v: number; readonly id: number | string | null };

/** The failure with `code` and `message`. */
export function failure(code: ErrorCode, message: string): Failure {
  return { ok: false, error: { code, message } };
}

/** `reply` as sent to the request with `id`: its result or its error, nothing else of it. */
export function replyLine(id: number | string | null, reply: Reply): ReplyLine {
  return reply.ok ? { v: PROTOCOL_VERSION, id, ok: true, result: reply.result } : { v: PROTOCOL_VERSION, id, ok: false, error: reply.error };
}

/**
 * A reply line as a client reads it, or null when it is not one: JSON with `ok`, and an error
 * with a code and a message when `ok` is false. A code this client does not know is kept (a
 * newer warden may send one).
 */
export function parseReplyLine(text: string): ReplyLine | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const line = raw as Readonly<Record<string, unknown>>;
  if (line.ok === true) return 'result' in line ? (line as ReplyLine) : null;
  if (line.ok !== false || typeof line.error !== 'object' || line.error === null) return null;
  const error = line.error as Readonly<Record<string, unknown>>;
  return typeof error.code === 'string' && typeof error.message === 'string' ? (line as ReplyLine) : null;
}
