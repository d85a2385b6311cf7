/**
 * Whether the peer of a unix socket closed it for good, or only shut its write side. Both look
 * the same to Node (an 'end'), but the kernel tells them apart: a peer that closed leaves the
 * socket shut both ways, which poll(2) reports as POLLHUP; a half-close (`nc -N`, socat) does not.
 */
import type { Socket } from 'node:net';
import { koffi, libc } from './koffi-lazy.js';

const POLLOUT = 0x004;
const POLLHUP = 0x010;

type Poll = (fds: Record<string, number>[], count: number, timeoutMs: number) => number;
let poll: Poll | undefined;

function load(): Poll {
  if (poll === undefined) {
    koffi().struct('warden_pollfd', { fd: 'int32', events: 'int16', revents: 'int16' });
    poll = libc().func('int poll(_Inout_ warden_pollfd *fds, uint64 nfds, int timeout)') as Poll;
  }
  return poll;
}

/** True when the peer of `socket` is gone (not merely half-closed); false when it is there or unknown. */
export function peerHungUp(socket: Socket): boolean {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return false;
  const fds = [{ fd, events: POLLOUT, revents: 0 }];
  if (load()(fds, 1, 0) < 0) return false;
  return ((fds[0]!.revents ?? 0) & POLLHUP) !== 0;
}
