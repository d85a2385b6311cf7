/**
 * What `warden health` reads without the control socket: the daemon keeps, beside its socket,
 * a file of every service's health (`SOCKET.health`, JSON, rewritten whenever a service's health
 * may have changed) and a FIFO it holds open for reading as long as it runs (`SOCKET.live`).
 * A client that can open the FIFO for writing without blocking knows that warden is there (the
 * kernel answers ENXIO once no reader holds it, however warden ended), and then the file is
 * current. A health probe runs every few seconds in every container: this way it loads no
 * socket code (Node's `net` and its streams, ~1.6 MB of a 40 MB client).
 */
import type { ServiceStatus } from './service-status.js';

/** The file and the FIFO that go with the control socket `socket`. */
export function healthPaths(socket: string): { readonly file: string; readonly live: string } {
  return { file: `${socket}.health`, live: `${socket}.live` };
}

/** What health judges of a service (cli/health.ts): a status without its times and usage. */
export type HealthView = Pick<ServiceStatus, 'name' | 'state' | 'goal' | 'ready' | 'normallyUp' | 'lastExit' | 'deaths' | 'crashLoop' | 'downReason' | 'problems'>;

/** The file's content: a version, then every service known, sorted by name. */
export interface HealthFile {
  readonly v: typeof HEALTH_FILE_VERSION;
  readonly services: readonly HealthView[];
}

export const HEALTH_FILE_VERSION = 1;

/** The health part of `s`. */
export function healthView(s: HealthView): HealthView {
  const { name, state, goal, ready, normallyUp, lastExit, deaths, crashLoop, downReason, problems } = s;
  return { name, state, goal, ready, normallyUp, lastExit, deaths, crashLoop, downReason, problems };
}

/** The file's text for `statuses`. */
export function healthFileText(statuses: readonly HealthView[]): string {
  const file: HealthFile = { v: HEALTH_FILE_VERSION, services: statuses.map(healthView) };
  return `${JSON.stringify(file)}\n`;
}

/** The services of a health file's text, or null when it is not one this client reads. */
export function parseHealthFile(text: string): readonly HealthView[] | null {
  try {
    const file = JSON.parse(text) as Partial<HealthFile> | null;
    return file !== null && file.v === HEALTH_FILE_VERSION && Array.isArray(file.services) ? file.services : null;
  } catch {
    return null;
  }
}
