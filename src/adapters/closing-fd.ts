/**
 * S6_WAIT_FOR_CLOSING_FD: the container manager holds the write end of a pipe open on an fd of
 * PID 1 until it is ready for the container to go on; end of file on it says so.
 */
import { createReadStream } from 'node:fs';

/** Resolves once `fd` reads end of file; with an error (the fd is not open) at once, with it. */
export function waitForClosingFd(fd: number): Promise<Error | null> {
  return new Promise((resolve) => {
    const stream = createReadStream('', { fd, autoClose: true });
    // What the manager writes means nothing: only its end does.
    stream.on('data', () => undefined);
    stream.once('end', () => resolve(null));
    stream.once('error', (err) => resolve(err));
  });
}
