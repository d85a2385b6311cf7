/**
 * The control protocol between `warden` commands and the running supervisor: one JSON object
 * per line each way over a unix socket. Version 1; documented in docs/control-protocol.md.
 * `Commands` is the one list of commands, each with its request's fields and its result: a
 * command added here must be parsed (parse-request.ts) and answered (daemon/control-handler.ts),
 * or the build fails.
 */
import type { ServiceStatus } from './service-status.js';

export const PROTOCOL_VERSION = 1;
/** A request line longer than this is refused (and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type WaitCondition = 'up' | 'ready' | 'down';

/** What a rescan did (`reload`): the services it added, removed and changed, by name. */
export interface RescanResult {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** One atom as `change` and `units` report it. */
export interface AtomState {
  readonly name: string;
  readonly kind: 'longrun' | 'oneshot';
  readonly state: 'up' | 'down' | 'starting' | 'stopping' | 'failed';
}

type ServicesCommand = { readonly request: { readonly services: readonly string[] }; readonly result: readonly ServiceStatus[] };
type NoFields = Record<never, never>;

/** Each command: the fields of its request, once parsed, and the result of its reply. */
export interface Commands {
  readonly status: ServicesCommand;
  readonly up: ServicesCommand;
  readonly down: ServicesCommand;
  readonly restart: ServicesCommand;
  readonly once: ServicesCommand;
  readonly signal: {
    /** `signal` is in the `SIGNAME` form (signal-name.ts), whatever form the client sent. */
    readonly request: { readonly signal: string; readonly services: readonly string[] };
    readonly result: readonly ServiceStatus[];
  };
  readonly wait: {
    readonly request: {
      readonly condition: WaitCondition;
      readonly timeoutMs: number;
      readonly services: readonly string[];
      /** Met when any one of the services meets the condition (s6-svwait -o); else all must. */
      readonly any: boolean;
    };
    readonly result: readonly ServiceStatus[];
  };
  /** Replies first, then shuts the container down with `code`. */
  readonly halt: { readonly request: { readonly code: number }; readonly result: { readonly halting: true; readonly code: number } };
  readonly reload: { readonly request: NoFields; readonly result: RescanResult };
  /** Every atom of the unit set (longruns and oneshots) with its state: s6-rc's view. */
  readonly units: { readonly request: NoFields; readonly result: readonly AtomState[] };
  /**
   * s6-rc's `change`: the named units (bundles stand for their members) up with everything they
   * depend on, or down with everything that depends on them; replies once done or past
   * timeoutMs, with the atoms it resolved and those that did not get there.
   */
  readonly change: {
    readonly request: { readonly direction: 'up' | 'down'; readonly timeoutMs: number; readonly services: readonly string[] };
    readonly result: { readonly atoms: readonly string[]; readonly failed: readonly AtomState[] };
  };
}

export type Command = keyof Commands;

/** One request: a variant per command, told apart by `cmd`. */
export type Request = { readonly [C in Command]: { readonly cmd: C } & Commands[C]['request'] }[Command];

/** The request of one command. */
export type RequestOf<C extends Command> = Extract<Request, { readonly cmd: C }>;

/** The result of a command's reply, when it succeeds. */
export type ResultOf<C extends Command> = Commands[C]['result'];

export type RequestLine = Request & { readonly v: number; readonly id?: number | string };

/** `request` as a client sends it: with the protocol's version, and `id` to match its reply by. */
export function requestLine(request: Request, id?: number | string): RequestLine {
  return { v: PROTOCOL_VERSION, ...(id === undefined ? {} : { id }), ...request };
}
