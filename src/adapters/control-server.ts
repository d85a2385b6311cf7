/**
 * The control socket: newline-delimited JSON requests in, one reply line each out. A malformed,
 * oversized or unknown request gets an error reply; nothing a client sends can disturb the
 * supervisor. Only root or the socket's owner may talk to it (mode 0600, and SO_PEERCRED).
 */
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import {
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  parseRequest,
  type ProtocolError,
  type ReplyLine,
  type RequestLine,
} from './control-protocol.js';
import { peerCredentials } from './peer-credentials.js';

export type HandlerResult = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: ProtocolError };
/** Answers one request; `cancel` aborts when its client is gone (a long `wait` stops waiting). */
export type RequestHandler = (request: RequestLine, cancel: AbortSignal) => Promise<HandlerResult>;

/** Requests of one client read but not answered yet, beyond which it is not read from. */
const MAX_UNANSWERED = 64;
/** Replies written to one client and not read by it yet, beyond which it is not read from. */
const MAX_UNREAD_REPLY_BYTES = 1024 * 1024;

export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly handle: RequestHandler,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Listens on the socket path; fails if another live supervisor already owns it. */
  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    // Nothing there (a container's first boot) needs no probe: a first connect costs ~1 ms.
    if (existsSync(this.path)) {
      if (await isLive(this.path)) throw new Error(`${this.path}: another warden is already listening there`);
      try {
        unlinkSync(this.path); // A stale socket from a warden that died.
      } catch {
        // Gone meanwhile: fine.
      }
    }
    const server = createServer((socket) => this.accept(socket));
    server.on('error', this.onError);
    // The socket file is created 0600 from the start: no window where others may connect.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    this.server = server;
  }

  close(): void {
    this.server?.close();
    for (const client of this.clients) client.destroy();
    this.server = null;
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    const send = (reply: ReplyLine): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
    };
    const cred = peerCredentials(socket);
    const owner = process.getuid?.() ?? 0;
    if (cred === null || (cred.uid !== 0 && cred.uid !== owner)) {
      send({ v: PROTOCOL_VERSION, id: null, ok: false, error: { code: 'permission-denied', message: 'only root or the owner of the control socket may control warden' } });
      socket.end();
      return;
    }
    let buffered = '';
    // Replies go out in request order, even when an earlier request (wait) takes longer.
    let queue: Promise<void> = Promise.resolve();
    const gone = new AbortController();
    socket.on('close', () => gone.abort());
    // A client that sends without reading must not grow PID 1: stop reading from it while it
    // has many requests unanswered or much of its replies unread.
    let unanswered = 0;
    const throttle = (): void => {
      if (unanswered >= MAX_UNANSWERED || socket.writableLength > MAX_UNREAD_REPLY_BYTES) socket.pause();
      else socket.resume();
    };
    socket.on('drain', throttle);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === '') continue;
        unanswered++;
        queue = queue.then(async () => {
          send(await this.answer(line, gone.signal));
          unanswered--;
          throttle();
        });
      }
      throttle();
      if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) {
        buffered = '';
        send({ v: PROTOCOL_VERSION, id: null, ok: false, error: { code: 'too-large', message: `a request line may hold at most ${MAX_REQUEST_BYTES} bytes` } });
        socket.end();
      }
    });
  }

  private async answer(line: string, cancel: AbortSignal): Promise<ReplyLine> {
    const parsed = parseRequest(line);
    if (!parsed.ok) return { v: PROTOCOL_VERSION, id: parsed.id ?? null, ok: false, error: parsed.error };
    const id = parsed.request.id ?? null;
    try {
      const result = await this.handle(parsed.request, cancel);
      return result.ok
        ? { v: PROTOCOL_VERSION, id, ok: true, result: result.result }
        : { v: PROTOCOL_VERSION, id, ok: false, error: result.error };
    } catch (err) {
      this.onError(err);
      return { v: PROTOCOL_VERSION, id, ok: false, error: { code: 'internal', message: String(err) } };
    }
  }
}

/** True when something accepts connections on `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
