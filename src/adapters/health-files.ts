/**
 * The files `warden health` reads instead of the control socket (protocol/health-file.ts), beside
 * the socket: the health file, replaced whole (written, then renamed: a reader never sees half of
 * one), and the FIFO this process holds open for reading as long as it publishes, never reading
 * it (clients only open it, to learn that warden is there). Only warden's user may open either,
 * as only it may connect to the socket.
 */
import { closeSync, constants, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { healthPaths } from '../protocol/health-file.js';
import { makeFifo } from './s6-supervise-dir.js';

export class HealthFiles {
  private constructor(
    private readonly paths: { readonly file: string; readonly live: string },
    private liveFd: number | null,
  ) {}

  /**
   * Writes the first health file for `socket`, then opens the FIFO (made if need be): a client
   * that finds it open finds a file of this warden. Throws when either cannot be made.
   */
  static open(socket: string, text: string): HealthFiles {
    const paths = healthPaths(socket);
    replace(paths.file, text);
    makeFifo(paths.live, 0o600);
    // O_NONBLOCK: opening a FIFO for reading waits for a writer otherwise. Node opens it
    // close-on-exec: no service inherits it, so the FIFO has no reader once warden is gone.
    return new HealthFiles(paths, openSync(paths.live, constants.O_RDONLY | constants.O_NONBLOCK));
  }

  write(text: string): void {
    if (this.liveFd !== null) replace(this.paths.file, text);
  }

  /** Closes the FIFO (a client then asks the socket, which is closing too) and removes both. */
  close(): void {
    if (this.liveFd === null) return;
    closeSync(this.liveFd);
    this.liveFd = null;
    rmSync(this.paths.live, { force: true });
    rmSync(this.paths.file, { force: true });
  }
}

function replace(file: string, text: string): void {
  writeFileSync(`${file}.new`, text, { mode: 0o600 });
  renameSync(`${file}.new`, file);
}
