import { execFile } from 'node:child_process';

/** Makes a FIFO with the system mkfifo (Node has no API for it); false if that fails. */
export function mkfifo(path: string): Promise<boolean> {
  return new Promise((resolve) => execFile('mkfifo', [path], (err) => resolve(err === null)));
}
