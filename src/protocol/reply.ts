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

export type ReplyLine =
  | { readonly v: number; readonly id: number | string | null; readonly ok: true; readonly result: unknown }
  | { readonly v: number; readonly id: number | string | null; readonly ok: false; readonly error: ProtocolError };
