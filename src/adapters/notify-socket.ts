/**
 * NOTIFY_SOCKET (systemd's sd_notify protocol) for services with a `notify-socket` file: each
 * running service gets its own unix datagram socket, `DIR/NAME.sock`, and sends `READY=1`,
 * `STATUS=…`, `STOPPING=1` to it (HAProxy `-Ws`, `systemd-notify`, any sd_notify library).
 *
 * Node has no unix datagram sockets (dgram is UDP only; net.Socket refuses an AF_UNIX SOCK_DGRAM
 * fd, and a stream would merge datagrams anyway), so the sockets are made through koffi. To read
 * them without a polling loop and without one blocked thread per socket, every socket is
 * registered with one epoll instance, and a single `epoll_wait(-1)` runs on libuv's threadpool
 * (koffi's async call) while any socket is open. When it returns, the ready sockets are drained
 * on the main thread with non-blocking `recvmsg` until EAGAIN; then the wait is issued again.
 * So however many notify services run, one threadpool thread is held, not one per service.
 *
 * Why a socket per service and not one shared socket: the socket itself says which service a
 * message is for (no pid → service lookup, which would race short-lived senders such as
 * `systemd-notify`, gone before /proc can be read), and each has its own receive queue, so
 * 100 services reporting at once never meet the kernel's per-socket queue limit
 * (net.unix.max_dgram_qlen: 10 datagrams by default). Who sent it is the kernel's word too:
 * SO_PASSCRED makes every datagram carry its sender's pid, uid and gid (SCM_CREDENTIALS), which
 * the supervisor checks against the service's process tree (anyone may reach the socket).
 *
 * A blocked threadpool thread would hang Node's exit (libuv joins its threads at exit), so the
 * wait is always woken through an eventfd registered beside the sockets: when the last socket
 * closes, on `close()`, and as a last resort from a synchronous `process.on('exit')` hook.
 *
 * Linux only (epoll, eventfd); x86-64 and aarch64 (the epoll_event layout differs, see below).
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { arch, endianness } from 'node:os';
import { join } from 'node:path';
import { koffi, libc as openLibc } from './koffi-lazy.js';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EPOLL_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const EPOLLIN = 0x1;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const MSG_DONTWAIT = 0x40;
const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const SCM_CREDENTIALS = 2;
/** A control message's header (size_t length, int level, int type) before its data, on 64-bit Linux. */
const CMSG_HEADER_BYTES = 16;
/** Room for one SCM_CREDENTIALS message: the header and struct ucred (12 bytes), aligned to 8. */
const CONTROL_BYTES = 32;
/** sun_path is 108 bytes with its terminating NUL. */
const MAX_PATH_BYTES = 107;
/** systemd reads at most a page per message; be generous, a datagram larger than this is cut. */
const MESSAGE_BYTES = 64 * 1024;
const MAX_EVENTS = 64;
/** Datagrams read from one socket per wake-up before the others get their turn (epoll reports it again). */
const DRAIN_PER_WAKE = 64;
/** The token of the wake-up eventfd; sockets get 1, 2, 3 … never reused, so a late event for a closed one is dropped. */
const WAKE_TOKEN = 0n;

// struct epoll_event { uint32_t events; epoll_data_t data; } is packed on x86-64 (12 bytes, data
// at 4) and naturally aligned elsewhere (16 bytes, data at 8).
const PACKED_EPOLL = arch() === 'x64' || arch() === 'ia32';
const EVENT_SIZE = PACKED_EPOLL ? 12 : 16;
const EVENT_DATA = PACKED_EPOLL ? 4 : 8;

type Callback = (err: unknown, result: number) => void;
type AsyncFn<A extends unknown[]> = ((...args: A) => number) & { async: (...args: [...A, Callback]) => void };

/** struct msghdr as koffi passes it: the kernel writes into `iov[0].base` and `control`. */
interface MessageHeader {
  name: null;
  namelen: number;
  iov: { base: Buffer; len: number }[];
  iovlen: number;
  control: Buffer;
  controllen: number;
  flags: number;
}

interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  recvmsg: (fd: number, msg: MessageHeader, flags: number) => number;
  close: (fd: number) => number;
  epollCreate1: (flags: number) => number;
  epollCtl: (epfd: number, op: number, fd: number, event: Buffer | null) => number;
  epollWait: AsyncFn<[epfd: number, events: Buffer, max: number, timeout: number]>;
  eventfd: (initval: number, flags: number) => number;
  read: (fd: number, buf: Buffer, len: number) => number;
  write: (fd: number, buf: Buffer, len: number) => number;
  sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrLen: number) => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc === undefined) {
    const lib = openLibc();
    const k = koffi();
    k.struct('warden_iovec', { base: 'void *', len: 'size_t' });
    k.struct('warden_msghdr', {
      name: 'void *',
      namelen: 'uint32',
      iov: 'warden_iovec *',
      iovlen: 'size_t',
      control: 'void *',
      controllen: 'size_t',
      flags: 'int',
    });
    libc = {
      socket: lib.func('int socket(int domain, int type, int protocol)') as Libc['socket'],
      bind: lib.func('int bind(int fd, const void *addr, uint32_t len)') as Libc['bind'],
      setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)') as Libc['setsockopt'],
      recvmsg: lib.func('long recvmsg(int fd, _Inout_ warden_msghdr *msg, int flags)') as Libc['recvmsg'],
      close: lib.func('int close(int fd)') as Libc['close'],
      epollCreate1: lib.func('int epoll_create1(int flags)') as Libc['epollCreate1'],
      epollCtl: lib.func('int epoll_ctl(int epfd, int op, int fd, void *event)') as Libc['epollCtl'],
      epollWait: lib.func('int epoll_wait(int epfd, void *events, int maxevents, int timeout)') as Libc['epollWait'],
      eventfd: lib.func('int eventfd(unsigned int initval, int flags)') as Libc['eventfd'],
      read: lib.func('long read(int fd, void *buf, unsigned long len)') as Libc['read'],
      write: lib.func('long write(int fd, const void *buf, unsigned long len)') as Libc['write'],
      sendto: lib.func(
        'long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, uint32_t addrlen)',
      ) as Libc['sendto'],
    };
  }
  return libc;
}

function errnoName(errno: number): string {
  const entry = Object.entries(koffi().os.errno).find(([, value]) => value === errno);
  return entry === undefined ? `errno ${errno}` : entry[0];
}

/** Throws for a failed call, with the errno read at once (before other native code can run). */
function check(result: number, what: string): number {
  if (result < 0) throw new Error(`${what} failed: ${errnoName(koffi().errno())}`);
  return result;
}

/** A `struct sockaddr_un` for `path`, and its length. */
function unixAddress(path: string): { addr: Buffer; len: number } {
  const bytes = Buffer.from(path);
  if (bytes.length > MAX_PATH_BYTES) {
    throw new Error(`notify socket path ${path} is ${bytes.length} bytes, over the ${MAX_PATH_BYTES} a unix socket allows: use a shorter WARDEN_RUN_DIR or service name`);
  }
  const addr = Buffer.alloc(2 + MAX_PATH_BYTES + 1);
  if (endianness() === 'LE') addr.writeUInt16LE(AF_UNIX, 0);
  else addr.writeUInt16BE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return { addr, len: 2 + bytes.length + 1 };
}

function epollEvent(token: bigint): Buffer {
  const event = Buffer.alloc(EVENT_SIZE);
  event.writeUInt32LE(EPOLLIN, 0);
  event.writeBigUInt64LE(token, EVENT_DATA);
  return event;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there (or not ours to remove): bind reports a real problem.
  }
}

/** warden's run dir: `WARDEN_RUN_DIR`, default /run/warden. */
export function runDirOf(env: Readonly<Record<string, string | undefined>>): string {
  return env.WARDEN_RUN_DIR || '/run/warden';
}

/** Where the NOTIFY_SOCKETs are: RUNDIR/notify. */
export function notifyDir(runDir: string): string {
  return join(runDir, 'notify');
}

/** One service's socket; `close` removes it (call it when the process it was made for is gone). */
export interface NotifyEndpoint {
  /** The value for NOTIFY_SOCKET. */
  readonly path: string;
  close(): void;
}

/** Who sent a datagram, as the kernel says (SCM_CREDENTIALS). */
export interface NotifySender {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** `sender` is null only if the kernel attached no credentials (it always does with SO_PASSCRED). */
export type NotifyHandler = (text: string, sender: NotifySender | null) => void;

interface OpenSocket {
  readonly fd: number;
  readonly path: string;
  readonly onMessage: NotifyHandler;
}

/** What the Supervisor uses of the sockets: the unit tests hand it a set whose datagrams they write. */
export type NotifySocketSet = Pick<NotifySockets, 'open' | 'close'>;

/** Every service's NOTIFY_SOCKET, read by one epoll wait on the threadpool. */
export class NotifySockets {
  private readonly sockets = new Map<bigint, OpenSocket>();
  private nextToken = 1n;
  private epfd = -1;
  private wakefd = -1;
  private waiting = false;
  private closed = false;
  private failuresInARow = 0;
  private readonly events = Buffer.alloc(EVENT_SIZE * MAX_EVENTS);
  /** Made for the first message: most containers have no notify-socket service, and PID 1 would keep 64 KiB for life. */
  private messageBuffer: Buffer | null = null;
  private readonly control = Buffer.alloc(CONTROL_BYTES);
  private readonly exitHook = (): void => this.wake();

  constructor(
    private readonly dir: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** How many sockets are open. */
  get size(): number {
    return this.sockets.size;
  }

  /**
   * Creates `DIR/NAME.sock` (replacing a stale one) and calls `onMessage` with the text and the
   * sender of each datagram sent to it. Throws with a message for people when the socket cannot
   * be made.
   */
  open(name: string, onMessage: NotifyHandler): NotifyEndpoint {
    if (this.closed) throw new Error('the notify sockets are closed (warden is shutting down)');
    const c = load();
    this.start();
    const path = join(this.dir, `${name}.sock`);
    const { addr, len } = unixAddress(path);
    unlinkQuietly(path);
    const fd = check(c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket(AF_UNIX, SOCK_DGRAM)');
    const token = this.nextToken++;
    try {
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      check(c.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, one, 4), 'setsockopt(SO_PASSCRED)');
      check(c.bind(fd, addr, len), `bind(${path})`);
      // Writable by all: a run script may drop privileges (s6-setuidgid) before the program
      // reports, to a user warden cannot know. Who may report is decided per datagram, from
      // the credentials the kernel attaches to it.
      chmodSync(path, 0o666);
      check(c.epollCtl(this.epfd, EPOLL_CTL_ADD, fd, epollEvent(token)), 'epoll_ctl(ADD)');
    } catch (err) {
      c.close(fd);
      unlinkQuietly(path);
      throw err;
    }
    this.sockets.set(token, { fd, path, onMessage });
    this.wait();
    let open = true;
    return {
      path,
      close: () => {
        if (!open) return;
        open = false;
        this.release(token);
      },
    };
  }

  /** Closes every socket and stops the wait; later `open` calls throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const token of [...this.sockets.keys()]) this.release(token);
    if (!this.waiting) this.shutdown();
  }

  /** The epoll instance and its wake-up eventfd, made on first use. */
  private start(): void {
    if (this.epfd >= 0) return;
    const c = load();
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const epfd = check(c.epollCreate1(EPOLL_CLOEXEC), 'epoll_create1');
    const wakefd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd < 0 || c.epollCtl(epfd, EPOLL_CTL_ADD, wakefd, epollEvent(WAKE_TOKEN)) < 0) {
      const errno = koffi().errno();
      if (wakefd >= 0) c.close(wakefd);
      c.close(epfd);
      throw new Error(`eventfd for the notify sockets failed: ${errnoName(errno)}`);
    }
    this.epfd = epfd;
    this.wakefd = wakefd;
    process.on('exit', this.exitHook);
  }

  private release(token: bigint): void {
    const socket = this.sockets.get(token);
    if (socket === undefined) return;
    this.sockets.delete(token);
    const c = load();
    c.epollCtl(this.epfd, EPOLL_CTL_DEL, socket.fd, null);
    c.close(socket.fd);
    unlinkQuietly(socket.path);
    // No socket left: free the threadpool thread (the wait is issued again by the next open).
    if (this.sockets.size === 0 && this.waiting) this.wake();
  }

  /** Makes the in-flight epoll_wait return. Synchronous: also safe in an 'exit' handler. */
  private wake(): void {
    if (this.wakefd < 0) return;
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    load().write(this.wakefd, one, 8);
  }

  private wait(): void {
    if (this.waiting || this.closed || this.sockets.size === 0) return;
    this.waiting = true;
    load().epollWait.async(this.epfd, this.events, MAX_EVENTS, -1, (err, count) => {
      this.waiting = false;
      try {
        this.woke(err, count);
      } catch (e) {
        this.onError(e);
      }
      if (this.closed) this.shutdown();
      else this.wait();
    });
  }

  private woke(err: unknown, count: number): void {
    if (err !== null && err !== undefined) throw err;
    if (count < 0) {
      // EINTR is the one expected failure; anything that repeats would spin, so give up loudly.
      if (++this.failuresInARow >= 100) {
        this.closed = true;
        throw new Error('epoll_wait keeps failing: notify sockets are no longer read');
      }
      return;
    }
    this.failuresInARow = 0;
    for (let i = 0; i < count; i++) {
      const token = this.events.readBigUInt64LE(i * EVENT_SIZE + EVENT_DATA);
      if (token === WAKE_TOKEN) load().read(this.wakefd, Buffer.alloc(8), 8);
      else this.drain(token);
    }
  }

  /** Reads what is queued on one socket; a socket closed since the wait began is skipped. */
  private drain(token: bigint): void {
    const c = load();
    for (let n = 0; n < DRAIN_PER_WAKE; n++) {
      const socket = this.sockets.get(token);
      if (socket === undefined) return;
      const message = (this.messageBuffer ??= Buffer.alloc(MESSAGE_BYTES));
      const header: MessageHeader = {
        name: null,
        namelen: 0,
        iov: [{ base: message, len: MESSAGE_BYTES }],
        iovlen: 1,
        control: this.control.fill(0),
        controllen: CONTROL_BYTES,
        flags: 0,
      };
      const got = c.recvmsg(socket.fd, header, MSG_DONTWAIT);
      if (got < 0) return; // EAGAIN: drained
      const text = message.toString('utf8', 0, got);
      try {
        socket.onMessage(text, senderOf(this.control, header.controllen));
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private shutdown(): void {
    if (this.epfd < 0) return;
    const c = load();
    c.close(this.wakefd);
    c.close(this.epfd);
    this.wakefd = -1;
    this.epfd = -1;
    process.off('exit', this.exitHook);
  }
}

/** The SCM_CREDENTIALS in a received control buffer, or null when there is none. */
function senderOf(control: Buffer, length: number): NotifySender | null {
  if (length < CMSG_HEADER_BYTES + 12) return null;
  if (control.readInt32LE(8) !== SOL_SOCKET || control.readInt32LE(12) !== SCM_CREDENTIALS) return null;
  return { pid: control.readInt32LE(16), uid: control.readUInt32LE(20), gid: control.readUInt32LE(24) };
}

/** One `KEY=VALUE` assignment of an sd_notify message. */
export interface NotifyField {
  readonly key: string;
  readonly value: string;
}

/** Splits an sd_notify message into its assignments, in order (lines without `=` are skipped, as systemd does). */
export function parseNotifyMessage(text: string): NotifyField[] {
  const fields: NotifyField[] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    fields.push({ key: line.slice(0, eq), value: line.slice(eq + 1) });
  }
  return fields;
}

/**
 * Sends one sd_notify message to `path`, like `systemd-notify` (for tests and small tools; a
 * service would use its own sd_notify). Throws when the socket is missing or full.
 */
export function sendNotify(path: string, message: string): void {
  const c = load();
  const { addr, len } = unixAddress(path);
  const fd = check(c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), 'socket(AF_UNIX, SOCK_DGRAM)');
  try {
    const body = Buffer.from(message);
    check(c.sendto(fd, body, body.length, 0, addr, len), `sendto(${path})`);
  } finally {
    c.close(fd);
  }
}
