/** Sends one request to the running supervisor and returns its reply; errors say what to do. */
import { findSocket } from '../adapters/runtime-dir.js';
import { EXIT_BY_ERROR, EXIT_CANNOT_START, EXIT_FAILED } from '../protocol/exit-codes.js';
import { parseReplyLine, type ProtocolError, type ReplyLine } from '../protocol/reply.js';
import { requestLine, type Request, type ResultOf } from '../protocol/commands.js';
import { socketPath } from '../protocol/socket-path.js';

/** A failure the CLI reports in one line and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Reports a command's failure in one line on stderr and exits with its code (111 if unforeseen). */
export function exitWithFailure(err: unknown): never {
  process.stderr.write(`warden: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : EXIT_CANNOT_START);
}

/**
 * The control socket: WARDEN_SOCKET, else the first warden of this user found where warden puts
 * its runtime dir (runtime-dir.ts: a PID 1's first, then sub-inits'), else the default path.
 */
export function currentSocket(): string {
  return findSocket(process.env, process.getuid?.() ?? 0) ?? socketPath(process.env);
}

/** The reply's result (of the type the protocol gives the command), or a CliError built from its error. */
export async function call<R extends Request>(request: R, socket = currentSocket()): Promise<ResultOf<R['cmd']>> {
  const reply = await send(request, socket);
  // The supervisor answers each command with the result commands.ts gives it.
  if (reply.ok) return reply.result as ResultOf<R['cmd']>;
  // A newer warden may send an error code this client does not know.
  throw new CliError(describe(reply.error), EXIT_BY_ERROR[reply.error.code] ?? EXIT_FAILED);
}

function describe(error: ProtocolError): string {
  if (error.code === 'unknown-service' && error.known) {
    return `${error.message}; known services: ${error.known.length > 0 ? error.known.join(', ') : '(none)'}`;
  }
  return error.message;
}

async function send(request: Request, socket: string): Promise<ReplyLine> {
  // Loaded here, not at import: `warden health` mostly never connects (health-source.ts), and
  // net with its streams is ~1.6 MB of a short-lived client's peak RSS.
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let buffered = '';
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify(requestLine(request, 1))}\n`));
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      conn.end();
      const reply = parseReplyLine(buffered.slice(0, newline));
      if (reply !== null) resolve(reply);
      else reject(new CliError(`${socket}: the supervisor sent a reply that is not one of the control protocol's`, EXIT_CANNOT_START));
    });
    conn.on('error', (err: NodeJS.ErrnoException) => reject(connectError(err, socket)));
    conn.on('close', () => reject(new CliError(`${socket}: the supervisor closed the connection without a reply`, EXIT_CANNOT_START)));
  });
}

function connectError(err: NodeJS.ErrnoException, socket: string): CliError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new CliError(`no warden is running: nothing listens on ${socket} (set WARDEN_SOCKET if it is elsewhere)`, EXIT_CANNOT_START);
    case 'EACCES':
    case 'EPERM':
      return new CliError(`permission denied on ${socket}: run as root or as the user warden runs as`, EXIT_CANNOT_START);
    default:
      return new CliError(`${socket}: ${err.message}`, EXIT_CANNOT_START);
  }
}
