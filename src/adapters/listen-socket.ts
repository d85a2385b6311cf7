/**
 * Binds a listening stream socket that no one in warden accepts on: the fd is only held and
 * handed to services. Node cannot make one: a listening net.Server accepts by itself, and would
 * take connections meant for the service. So socket(), bind() and listen() through koffi.
 *
 * The socket is close-on-exec in warden, so only the runs it is handed to (dup'ed to fd 3 …,
 * which clears the flag) inherit it, not every program warden starts.
 */
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ListenSpec } from '../core/service-spec.js';
import { koffi, libcCalls } from './koffi-lazy.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;

const calls = libcCalls((lib) => ({
  socket: lib.func('int socket(int domain, int type, int protocol)') as (domain: number, type: number, protocol: number) => number,
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, unsigned int len)') as (
    fd: number,
    level: number,
    name: number,
    value: Buffer,
    len: number,
  ) => number,
  bind: lib.func('int bind(int fd, const void *addr, unsigned int len)') as (fd: number, addr: Buffer, len: number) => number,
  listen: lib.func('int listen(int fd, int backlog)') as (fd: number, backlog: number) => number,
  close: lib.func('int close(int fd)') as (fd: number) => number,
  inetPton: lib.func('int inet_pton(int af, const char *src, _Out_ void *dst)') as (af: number, src: string, dst: Buffer) => number,
  strerror: lib.func('const char *strerror(int errnum)') as (errnum: number) => string,
}));

export type BindResult = { readonly ok: true; readonly fd: number } | { readonly ok: false; readonly error: string };

/** A listening socket for `spec` (SO_REUSEADDR, as systemd and every server set it), or why not. */
export function bindListening(spec: ListenSpec): BindResult {
  const c = calls();
  const domain = spec.family === 'unix' ? AF_UNIX : spec.family === 'tcp' ? AF_INET : AF_INET6;
  const address = sockaddr(spec, domain);
  if (typeof address === 'string') return { ok: false, error: address };
  const fd = c.socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return { ok: false, error: `socket(): ${lastError()}` };
  const fail = (call: string): BindResult => {
    const error = `${call}: ${lastError()}`;
    c.close(fd);
    return { ok: false, error };
  };
  if (spec.family !== 'unix') {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    if (c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) !== 0) return fail('setsockopt(SO_REUSEADDR)');
  } else {
    const prepared = prepareUnixPath(spec.path);
    if (prepared !== null) {
      c.close(fd);
      return { ok: false, error: prepared };
    }
  }
  if (c.bind(fd, address, address.length) !== 0) return fail(`bind(${describe(spec)})`);
  if (c.listen(fd, spec.backlog) !== 0) return fail('listen()');
  return { ok: true, fd };
}

/** Sets the backlog of a socket already listening. */
export function relisten(fd: number, backlog: number): void {
  calls().listen(fd, backlog);
}

/** Closes a socket bound here. */
export function closeListening(fd: number): void {
  calls().close(fd);
}

/** `127.0.0.1:80`, `[::1]:80`, `/run/app.sock`. */
export function describe(spec: ListenSpec): string {
  if (spec.family === 'unix') return spec.path;
  return spec.family === 'tcp' ? `${spec.host}:${spec.port}` : `[${spec.host}]:${spec.port}`;
}

function sockaddr(spec: ListenSpec, domain: number): Buffer | string {
  if (spec.family === 'unix') {
    const addr = Buffer.alloc(110); // sa_family_t + sun_path[108]
    addr.writeUInt16LE(AF_UNIX, 0);
    addr.write(spec.path, 2);
    return addr;
  }
  const v4 = spec.family === 'tcp';
  const addr = Buffer.alloc(v4 ? 16 : 28);
  addr.writeUInt16LE(domain, 0);
  addr.writeUInt16BE(spec.port, 2);
  const dst = Buffer.alloc(16);
  if (calls().inetPton(domain, spec.host, dst) !== 1) return `not a numeric address: ${spec.host}`;
  // sockaddr_in: the address at 4; sockaddr_in6: flowinfo at 4, the address at 8.
  dst.copy(addr, v4 ? 4 : 8, 0, v4 ? 4 : 16);
  return addr;
}

/**
 * A unix socket's path: its dir is made, and a socket file left there (by an earlier boot, or a
 * warden that was killed) is removed, as systemd does; anything else there is an error.
 */
function prepareUnixPath(path: string): string | null {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    return `cannot make ${dirname(path)}: ${err instanceof Error ? err.message : String(err)}`;
  }
  try {
    if (!lstatSync(path).isSocket()) return `${path} exists and is not a socket: warden removes only a stale socket there`;
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return `cannot replace ${path}: ${err instanceof Error ? err.message : String(err)}`;
  }
  return null;
}

/** errno of the call just made, as `EADDRINUSE (Address already in use)`. */
function lastError(): string {
  const errno = koffi().errno();
  const name = Object.entries(koffi().os.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
  return `${name} (${calls().strerror(errno)})`;
}
