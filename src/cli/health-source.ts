/**
 * Where `warden health` gets what it judges: the health file warden keeps beside its control
 * socket (protocol/health-file.ts), read with node:fs alone, once the FIFO beside it shows that
 * warden runs; else, and for a name the file does not know (whose error the socket words), the
 * socket. A probe runs it every few seconds: this way it never loads Node's net module.
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { healthPaths, parseHealthFile, type HealthView } from '../protocol/health-file.js';
import { call, currentSocket } from './control-client.js';

/** The named services' health (every service's for none), from the file when it can say, else from warden over the socket. */
export async function healthOf(names: readonly string[], socket = currentSocket()): Promise<readonly HealthView[]> {
  return fromFile(names, socket) ?? (await call({ cmd: 'status', services: [...names] }, socket));
}

/** The file's answer, or null: no warden holds the FIFO, no file (an older warden), no access, or an unknown name. */
function fromFile(names: readonly string[], socket: string): readonly HealthView[] | null {
  const { file, live } = healthPaths(socket);
  let fd: number;
  try {
    // First the FIFO: it opens only while a warden holds it, and that warden wrote the file
    // before it opened it, so the file read next is that warden's, current.
    fd = openSync(live, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  let all: readonly HealthView[] | null;
  try {
    closeSync(fd);
    all = parseHealthFile(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (all === null || names.length === 0) return all;
  const byName = new Map(all.map((s) => [s.name, s]));
  // Each name once, in the order given, as the socket answers.
  const named = [...new Set(names)].map((n) => byName.get(n));
  return named.every((s) => s !== undefined) ? (named as HealthView[]) : null;
}
