/**
 * warden's own end of the container's stdout and stderr, as streams that never block the event
 * loop. Node writes to a pipe on fd 1 or 2 synchronously, so a `docker logs` reader that stops
 * reading would freeze PID 1: no reaping, no signals. A net.Socket writes asynchronously and
 * reports backpressure instead, but it sets O_NONBLOCK on the open file description, which CMD
 * shares when it inherits the fd (and a program that does not expect EAGAIN then loses output).
 * So warden opens the same pipe again through /proc and keeps the non-blocking flag to itself.
 */
import { constants, fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';

/** A non-blocking stream on the pipe or socket behind `fd`; null for a file, a tty, a closed fd. */
export function ownPipeStream(fd: 1 | 2): Socket | null {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return null;
  }
  if (!st.isFIFO() && !st.isSocket()) return null;
  let own = fd as number;
  if (st.isFIFO()) {
    try {
      own = openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      // No /proc (or no reader yet): share the description; async still beats a frozen PID 1.
    }
  }
  const socket = new Socket({ fd: own, readable: false, writable: true });
  socket.on('error', () => undefined); // A reader that went away must not take PID 1 with it.
  return socket;
}

/** Where the services' console lines go: the container's stdout. */
export function consoleStream(): NodeJS.WritableStream {
  return ownPipeStream(1) ?? process.stdout;
}
