/**
 * Who is on the other end of a unix socket (SO_PEERCRED): the kernel's word, not the client's.
 * Node does not expose it, so it is read through koffi from the socket's fd.
 */
import type { Socket } from 'node:net';
import { koffi, libc as openLibc } from './koffi-lazy.js';

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

type GetSockOpt = (fd: number, level: number, name: number, out: Record<string, number>, len: [number]) => number;
let getsockopt: GetSockOpt | undefined;

function load(): GetSockOpt {
  if (getsockopt === undefined) {
    // Declared by name for the prototype below: struct ucred { pid_t; uid_t; gid_t; }.
    koffi().struct('warden_ucred', { pid: 'int32', uid: 'uint32', gid: 'uint32' });
    const lib = openLibc();
    getsockopt = lib.func('int getsockopt(int, int, int, _Out_ warden_ucred *, _Inout_ uint32 *)') as GetSockOpt;
  }
  return getsockopt;
}

/** The connected peer's pid, uid and gid, or null when they cannot be read. */
export function peerCredentials(socket: Socket): PeerCredentials | null {
  // A unix socket's libuv handle carries its fd; there is no public accessor.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  const out: Record<string, number> = {};
  if (load()(fd, SOL_SOCKET, SO_PEERCRED, out, [12]) !== 0) return null;
  return { pid: out.pid ?? -1, uid: out.uid ?? -1, gid: out.gid ?? -1 };
}
