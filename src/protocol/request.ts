/**
 * The control protocol between `warden` commands and the running supervisor: one JSON object
 * per line each way over a unix socket. Version 1; documented in docs/control-protocol.md.
 * `Requests` is the one list of commands: a command added here must be parsed
 * (parse-request.ts) and answered (daemon/control-handler.ts), or the build fails.
 */
export const PROTOCOL_VERSION = 1;
/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type WaitCondition = 'up' | 'ready' | 'down';

/** Each command and the fields of its request, once parsed. */
export interface Requests {
  readonly status: { readonly services: readonly string[] };
  readonly up: { readonly services: readonly string[] };
  readonly down: { readonly services: readonly string[] };
  readonly restart: { readonly services: readonly string[] };
  readonly once: { readonly services: readonly string[] };
  /** `signal` is in the `SIGNAME` form (signal-name.ts), whatever form the client sent. */
  readonly signal: { readonly signal: string; readonly services: readonly string[] };
  readonly wait: {
    readonly condition: WaitCondition;
    readonly timeoutMs: number;
    readonly services: readonly string[];
    /** Met when any one of the services meets the condition (s6-svwait -o); else all must. */
    readonly any: boolean;
  };
  readonly halt: { readonly code: number };
  readonly reload: Record<never, never>;
  /** Every atom of the unit set (longruns and oneshots) with its state: s6-rc's view. */
  readonly units: Record<never, never>;
  /**
   * s6-rc's `change`: the named units (bundles stand for their members) up with everything they
   * depend on, or down with everything that depends on them; replies once done or past timeoutMs.
   */
  readonly change: { readonly direction: 'up' | 'down'; readonly timeoutMs: number; readonly services: readonly string[] };
}

export type Command = keyof Requests;

/** One request: a variant per command, told apart by `cmd`. */
export type Request = { readonly [C in Command]: { readonly cmd: C } & Requests[C] }[Command];

/** The request of one command. */
export type RequestOf<C extends Command> = Extract<Request, { readonly cmd: C }>;

export type RequestLine = Request & { readonly v: number; readonly id?: number | string };
