/**
 * s6-supervise's view of a service, as its `supervise/status` file and `event/` fifodir tell it
 * to s6's own tools (s6-svstat, s6-svwait, s6-svc -w…): computed from warden's service state,
 * purely. The layout is s6 2.11's (35 bytes: two TAI64N stamps, a 64-bit pid, a 16-bit wait
 * status, one byte of flags); the events are the letters s6-supervise writes at the same moments.
 *
 * Wall time comes in as a value (`wallMs`, ms since the Unix epoch): the stamps are wall-clock,
 * as s6-supervise writes them.
 */
import type { ExitStatus } from './exit-status.js';
import type { Service } from './service-machine.js';
import type { ServiceSpec } from './service-spec.js';

export interface SvStatus {
  /** Wall ms of the last start or death (s6's `stamp`). */
  readonly stamp: number;
  /** Wall ms of the last readiness, or of the last down-and-ready (s6's `readystamp`). */
  readonly readyStamp: number;
  /** The running program's pid; 0 when down or finishing. */
  readonly pid: number;
  /** The last death's raw wait status (`waitpid`'s encoding). */
  readonly wstat: number;
  readonly paused: boolean;
  readonly finishing: boolean;
  readonly wantUp: boolean;
  readonly ready: boolean;
}

/** A new status and the event letters to send for the change (empty: none). */
export interface SvChange {
  readonly status: SvStatus;
  readonly events: string;
}

/** The status file's size in s6 2.11 (no pgid field yet). */
export const SVSTATUS_SIZE = 35;
/** One death_tally record: a TAI64N stamp, the exit code and the signal. */
export const DTALLY_RECORD_SIZE = 14;
/** s6-supervise's ceiling on `max-death-tally`. */
export const MAX_DEATH_TALLY = 4096;

type Phase = 'down' | 'up' | 'finishing';

function phaseOf(status: SvStatus): Phase {
  if (status.finishing) return 'finishing';
  return status.pid !== 0 ? 'up' : 'down';
}

/** s6's "want up": warden's `once` is s6-svc -o, which s6 records as wanted down. */
function wantsUp(service: Service): boolean {
  return service.goal === 'up';
}

/**
 * Whether the service reports readiness at all: s6-supervise sets its ready flag only on a
 * notification; a program without one is up, never ready (s6-svwait -U would wait for ever).
 * warden's other readiness sources (NOTIFY_SOCKET, a check) count as notifications here.
 */
export function reportsReadiness(spec: ServiceSpec): boolean {
  return spec.notificationFd !== null || spec.notifySocket || spec.check !== null;
}

/** The raw wait status of a death, as `waitpid` encodes it (no core dump bit). */
export function wstatOf(status: ExitStatus): number {
  return status.kind === 'exited' ? (status.code & 0xff) << 8 : status.signal & 0x7f;
}

/**
 * The status s6-supervise announces when it starts on a service that it is not told to bring up
 * (a `down` file, or s6-rc's longrun waiting for its dependencies): down, ready since now, and
 * event `s`.
 */
export function waitingSvStatus(wallMs: number): SvChange {
  return { status: { stamp: wallMs, readyStamp: wallMs, pid: 0, wstat: 0, paused: false, finishing: false, wantUp: false, ready: true }, events: 's' };
}

/** The status s6-supervise announces when it starts on a service: down, ready since now, and event `s`, then what `service` did since. */
export function initialSvStatus(service: Service, wallMs: number): SvChange {
  const first = waitingSvStatus(wallMs);
  const next = nextSvStatus(first.status, service, wallMs);
  return { status: next.status, events: `${first.events}${next.events}` };
}

/**
 * The status after warden's service moved to `service.state`, from the one before: what changed
 * in s6's terms (a start `u`, readiness `U`, a death `d`, the end of its finish `D`, a permanent
 * failure `O`), with the stamps s6-supervise would give it.
 */
export function nextSvStatus(prev: SvStatus, service: Service, wallMs: number): SvChange {
  const state = service.state;
  const before = phaseOf(prev);
  const wantUp = wantsUp(service);
  switch (state.kind) {
    case 'starting':
    case 'up':
    case 'stopping': {
      let status = prev;
      let events = '';
      if (before !== 'up' || prev.pid !== state.pid) {
        // A new run: readiness starts over; the last death's wstat stays, as in s6.
        status = { ...prev, stamp: wallMs, pid: state.pid, finishing: false, paused: false, ready: false };
        events = 'u';
      }
      if (state.kind === 'up' && !status.ready && reportsReadiness(service.spec)) {
        status = { ...status, ready: true, readyStamp: wallMs };
        events += 'U';
      }
      // A stopping program got SIGCONT with its down signal: s6 clears the paused flag there.
      if (state.kind === 'stopping') status = { ...status, paused: false };
      return { status: { ...status, wantUp }, events };
    }
    case 'finishing': {
      if (before === 'finishing') return { status: { ...prev, wantUp }, events: '' };
      const status: SvStatus = { ...prev, stamp: wallMs, pid: 0, wstat: wstatOf(state.status), paused: false, finishing: true, ready: false, wantUp };
      // A launch that failed never sent `u`: s6-supervise sends nothing for it either.
      return { status, events: before === 'up' ? 'd' : '' };
    }
    case 'down':
    case 'backoff':
    case 'spawning': {
      const permanent = state.kind === 'down' && state.reason === 'permanent-failure';
      if (before === 'up') {
        // Dead with no finish script: s6 runs none either and says both at once.
        const death = service.deaths.at(-1)?.status;
        const wstat = death === undefined ? prev.wstat : wstatOf(death);
        const status: SvStatus = { ...prev, stamp: wallMs, readyStamp: wallMs, pid: 0, wstat, paused: false, finishing: false, ready: true, wantUp };
        return { status, events: 'dD' };
      }
      if (before === 'finishing') {
        const status: SvStatus = { ...prev, readyStamp: wallMs, finishing: false, ready: true, wantUp };
        return { status, events: permanent ? 'OD' : 'D' };
      }
      return { status: { ...prev, wantUp }, events: '' };
    }
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

/** Whether s6-svstat would call it up (and so whether `p`/`c` mark it paused). */
export function isUp(status: SvStatus): boolean {
  return phaseOf(status) === 'up';
}

/**
 * skalibs' TAI64N label of a wall-clock time: 2^62 + TAI seconds (UTC + 10 s + the leap seconds
 * since 1972: 27, unchanged since 2017), then the nanoseconds, all big-endian.
 */
function packTain(bytes: Uint8Array, offset: number, wallMs: number): void {
  const ms = Math.max(0, Math.floor(wallMs));
  const seconds = BigInt(Math.floor(ms / 1000)) + TAI_OFFSET;
  const nanos = (ms % 1000) * 1_000_000;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setBigUint64(offset, seconds);
  view.setUint32(offset + 8, nanos);
}

const TAI_OFFSET = (1n << 62n) + 10n + 27n;

/** The 35 bytes of `supervise/status`. */
export function packSvStatus(status: SvStatus): Uint8Array {
  const bytes = new Uint8Array(SVSTATUS_SIZE);
  packTain(bytes, 0, status.stamp);
  packTain(bytes, 12, status.readyStamp);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(24, BigInt(status.pid));
  view.setUint16(32, status.wstat & 0xffff);
  bytes[34] = (status.paused ? 1 : 0) | (status.finishing ? 2 : 0) | (status.wantUp ? 4 : 0) | (status.ready ? 8 : 0);
  return bytes;
}

/** One death as s6-svdt reads it: when, the exit code (128 + signal when killed), the signal (0 when not). */
export interface TallyEntry {
  readonly wallMs: number;
  readonly status: ExitStatus;
}

/** `supervise/death_tally`: the last `max` deaths (capped as s6 caps it), oldest first. */
export function packDeathTally(deaths: readonly TallyEntry[], max: number): Uint8Array {
  const limit = Math.min(Math.max(max, 0), MAX_DEATH_TALLY);
  const shown = limit === 0 ? [] : deaths.slice(-limit);
  const bytes = new Uint8Array(shown.length * DTALLY_RECORD_SIZE);
  shown.forEach((death, i) => {
    const at = i * DTALLY_RECORD_SIZE;
    packTain(bytes, at, death.wallMs);
    const { code, signal } = death.status.kind === 'killed' ? { code: 128 + death.status.signal, signal: death.status.signal } : { code: death.status.code, signal: 0 };
    bytes[at + 12] = code & 0xff;
    bytes[at + 13] = signal & 0xff;
  });
  return bytes;
}
