/**
 * The container's stdout as a stream that never blocks the event loop. Node writes to a pipe
 * on fd 1 synchronously, so a full `docker logs` pipe would freeze PID 1; an async socket on the
 * same fd reports backpressure instead, and ServiceLogs then pauses the services that flood.
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';

export function consoleStream(): NodeJS.WritableStream {
  try {
    const st = fstatSync(1);
    if (st.isFIFO() || st.isSocket()) {
      const socket = new Socket({ fd: 1, readable: false, writable: true });
      socket.on('error', () => undefined); // A reader that went away must not take PID 1 with it.
      return socket;
    }
  } catch {
    // fd 1 closed: fall back to process.stdout, whose errors ServiceLogs reports once.
  }
  return process.stdout;
}
