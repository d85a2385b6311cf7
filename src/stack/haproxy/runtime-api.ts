/**
 * A client of HAProxy's runtime API (the admin `stats socket`) and master CLI: one command per
 * connection, the request half-closed so HAProxy answers and closes (the master CLI waits for
 * more input otherwise).
 */
import { connect } from 'node:net';
import { parseServersState, parseStat, type RuntimeServer, type StatRow } from './runtime-state.js';

/** HAProxy answered a command with an error, or could not be reached. */
export class RuntimeApiError extends Error {
  override readonly name = 'RuntimeApiError';
  constructor(
    message: string,
    /** ENOENT / ECONNREFUSED: nothing listens on the socket (HAProxy is not running). */
    readonly unreachable = false,
  ) {
    super(message);
  }
}

/** Sends one command on a unix socket and resolves with the whole answer. */
export function socketCommand(path: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RuntimeApiError(`${path}: no answer to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const unreachable = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      reject(new RuntimeApiError(`${path}: ${command}: ${err.message}`, unreachable));
    });
    socket.end(`${command}\n`);
  });
}

/** How a command reaches a socket and its answer comes back: `socketCommand`, or a test's HAProxy. */
export type SocketTransport = (path: string, command: string, timeoutMs?: number) => Promise<string>;

export class RuntimeApi {
  constructor(
    readonly adminSocket: string,
    readonly masterSocket: string,
    private readonly send: SocketTransport = socketCommand,
  ) {}

  /** Runs a command whose success is an empty answer or one of `ok` (e.g. "Server deleted."). */
  async run(command: string, ok: readonly string[] = []): Promise<string> {
    const answer = (await this.send(this.adminSocket, command)).trim();
    if (answer === '' || ok.some((o) => answer.startsWith(o))) return answer;
    throw new RuntimeApiError(`"${command}": ${answer}`);
  }

  async serversState(backend: string): Promise<RuntimeServer[]> {
    return parseServersState(await this.send(this.adminSocket, `show servers state ${backend}`), backend);
  }

  async stat(): Promise<StatRow[]> {
    return parseStat(await this.send(this.adminSocket, 'show stat'));
  }

  /** The pid of the worker answering on the admin socket, or null when none answers. */
  async workerPid(): Promise<number | null> {
    try {
      const match = /^Pid: (\d+)$/m.exec(await this.send(this.adminSocket, 'show info', 2000));
      return match ? Number(match[1]) : null;
    } catch {
      return null;
    }
  }

  /** Master-worker reload: the master re-reads the config and starts new workers; old ones finish their sessions. */
  async reload(): Promise<void> {
    await this.send(this.masterSocket, 'reload');
  }
}
