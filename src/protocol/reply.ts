/** What the supervisor answers: one reply line per request, a result or an error. */
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

/** A reply as sent: its outcome with the version and the request's id (null when it had none). */
export type ReplyLine = Reply & { readonly v: number; readonly id: number | string | null };
