/**
 * The control socket: newline-delimited JSON requests in, one reply line each out. A malformed,
 * oversized or unknown request gets an error reply; nothing a client sends can disturb the
 * supervisor. Only root or the socket's owner may talk to it (mode 0600, and SO_PEERCRED).
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { parseRequest } from '../protocol/parse-request.js';
import { failure, replyLine, type Reply, type ReplyLine } from '../protocol/reply.js';
import { MAX_REQUEST_BYTES, type RequestLine } from '../protocol/commands.js';
import { peerCredentials } from './peer-credentials.js';
import { peerHungUp } from './socket-hangup.js';

/** Answers one request; `cancel` aborts when its client is gone (a long `wait` stops waiting). */
export type RequestHandler = (request: RequestLine, cancel: AbortSignal) => Promise<Reply>;

/** Requests of one client read but not answered yet, beyond which it is not read from. */
const MAX_UNANSWERED = 64;
/**
 * Reply bytes of one client not yet taken by the kernel (it does not read), beyond which no
 * further reply of its is produced until it reads: the answer is computed only then.
 */
const MAX_UNREAD_REPLY_BYTES = 1024 * 1024;
/**
 * The same, summed over every client: past it, a client that has unread replies waits for
 * them to be read before its next reply is produced; a client that has read all of its own is
 * still answered, so one that reads gets its status whatever the others do.
 */
const MAX_TOTAL_UNREAD_REPLY_BYTES = 32 * 1024 * 1024;
/** How often a client that shut its write side, with a request pending, is checked for life. */
const HALF_CLOSED_PROBE_MS = 1000;

export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();
  /** Reply bytes written to every client and not yet taken by the kernel. */
  private unread = 0;

  constructor(
    private readonly path: string,
    private readonly handle: RequestHandler,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Listens on the socket path; fails if another live supervisor already owns it, or if
   * something that is not a socket is there (warden removes only a stale socket of its own kind).
   */
  async listen(): Promise<void> {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    // Nothing there (a container's first boot) needs no probe: a first connect costs ~1 ms.
    const there = lstatOrNull(this.path);
    if (there !== null) {
      if (!there.isSocket()) throw new Error(`${this.path} exists and is not a socket: warden does not replace it; remove it or set WARDEN_SOCKET`);
      if (await isLive(this.path)) throw new Error(`${this.path}: another warden is already listening there`);
      try {
        unlinkSync(this.path); // A stale socket from a warden that died.
      } catch {
        // Gone meanwhile: fine.
      }
    }
    // A shut write side is not a hang-up: `nc -N` and socat send their request, then shut
    // their side, and still read the reply.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    server.on('error', this.onError);
    // The socket is made 0600 in a private dir (0700) and renamed into place: no window where
    // others may connect, and no change of the process umask, which applies to every file any
    // thread of warden creates meanwhile (the container environment is written at the same time).
    const privateDir = mkdtempSync(join(dir, '.control-'));
    const made = join(privateDir, 's');
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(made, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(made, 0o600);
      renameSync(made, this.path);
    } catch (err) {
      server.close();
      throw err;
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
    this.server = server;
  }

  close(): void {
    if (this.server !== null) {
      this.server.close();
      // The server would unlink the path it was bound to, which was renamed: remove ours.
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone.
      }
    }
    for (const client of this.clients) client.destroy();
    this.server = null;
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('error', () => socket.destroy());
    // Replies are counted from when they are made until the kernel takes them, so a client that
    // does not read holds at most MAX_UNREAD_REPLY_BYTES plus one reply.
    let unread = 0;
    let closed = false;
    let wake: (() => void) | null = null;
    const send = (reply: ReplyLine): void => {
      if (socket.destroyed) return;
      const text = `${JSON.stringify(reply)}\n`;
      const bytes = Buffer.byteLength(text);
      unread += bytes;
      this.unread += bytes;
      socket.write(text, () => {
        if (closed) return;
        unread -= bytes;
        this.unread -= bytes;
        wake?.();
        throttle();
      });
    };
    const gone = new AbortController();
    socket.on('close', () => {
      closed = true;
      this.unread -= unread;
      unread = 0;
      this.clients.delete(socket);
      gone.abort();
      wake?.();
    });
    const cred = peerCredentials(socket);
    const owner = process.getuid?.() ?? 0;
    if (cred === null || (cred.uid !== 0 && cred.uid !== owner)) {
      send(replyLine(null, failure('permission-denied', 'only root or the owner of the control socket may control warden')));
      socket.end();
      return;
    }
    const room = (): boolean => unread === 0 || (unread < MAX_UNREAD_REPLY_BYTES && this.unread < MAX_TOTAL_UNREAD_REPLY_BYTES);
    const whenRoom = (): Promise<void> =>
      room() || closed
        ? Promise.resolve()
        : new Promise((resolve) => {
            wake = () => {
              if (!room() && !closed) return;
              wake = null;
              resolve();
            };
          });
    let buffered = '';
    // Replies go out in request order, even when an earlier request (wait) takes longer.
    let queue: Promise<void> = Promise.resolve();
    // A client that sends without reading must not grow PID 1: stop reading from it while it
    // has many requests unanswered or much of its replies unread.
    let unanswered = 0;
    const throttle = (): void => {
      if (closed) return;
      if (unanswered >= MAX_UNANSWERED || unread > MAX_UNREAD_REPLY_BYTES) socket.pause();
      else socket.resume();
    };
    const enqueue = (line: string): void => {
      unanswered++;
      queue = queue.then(async () => {
        await whenRoom();
        if (closed) return;
        send(await this.answer(line, gone.signal));
        unanswered--;
        throttle();
      });
    };
    const tooLarge = (): void => {
      buffered = '';
      send(replyLine(null, failure('too-large', `a request line may hold at most ${MAX_REQUEST_BYTES} bytes`)));
      socket.end();
      socket.pause();
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (socket.writableEnded) return;
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const raw = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        // Each line is held to the limit, not only what is left after the last newline.
        if (Buffer.byteLength(raw) > MAX_REQUEST_BYTES) return tooLarge();
        const line = raw.trim();
        if (line !== '') enqueue(line);
      }
      throttle();
      if (Buffer.byteLength(buffered) > MAX_REQUEST_BYTES) tooLarge();
    });
    socket.on('end', () => {
      if (socket.writableEnded) return;
      // The client has said all it will: a last line without its newline still counts.
      const last = buffered.trim();
      buffered = '';
      if (last !== '' && Buffer.byteLength(last) <= MAX_REQUEST_BYTES) enqueue(last);
      // It may have hung up rather than shut its side: then a pending `wait` is cancelled.
      const probe = unanswered > 0 ? setInterval(() => peerHungUp(socket) && socket.destroy(), HALF_CLOSED_PROBE_MS) : null;
      probe?.unref();
      if (probe !== null && peerHungUp(socket)) socket.destroy();
      void queue.then(() => {
        if (probe !== null) clearInterval(probe);
        socket.end();
      });
    });
  }

  private async answer(line: string, cancel: AbortSignal): Promise<ReplyLine> {
    const parsed = parseRequest(line);
    if (!parsed.ok) return replyLine(parsed.id ?? null, parsed);
    const id = parsed.request.id ?? null;
    try {
      return replyLine(id, await this.handle(parsed.request, cancel));
    } catch (err) {
      this.onError(err);
      return replyLine(id, failure('internal', String(err)));
    }
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
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
