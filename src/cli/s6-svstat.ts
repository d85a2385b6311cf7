/**
 * s6-svstat on warden: `s6-svstat [-uwNrpest | -o FIELDS] [-n] SERVICEDIR`: the service's state
 * in s6's words (s6 2.11, Debian bookworm's), from warden's `status` over its control socket.
 * Without options, as s6 prints it:
 *   up (pid 123) 45 seconds, ready 44 seconds
 *   down (exitcode 1) 3 seconds, normally up, want up, ready 3 seconds
 * The times are warden's own stamps: the last up (spawn) or down (death), and readiness (while
 * down: when its finish was done). One difference: a service without notification-fd is ready
 * under warden as soon as it runs; s6 never calls it ready.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import type { ServiceStatus } from '../protocol/service-status.js';
import { signalNumber } from '../protocol/signal-name.js';
import { call, CliError } from './control-client.js';
import { EXIT_CANNOT_START, EXIT_FAILED, EXIT_USAGE } from '../protocol/exit-codes.js';

const USAGE =
  's6-svstat: usage: s6-svstat [ -uwNrpest | -o up,wantedup,normallyup,ready,paused,pid,exitcode,signal,signum,updownsince,readysince,updownfor,readyfor ] [ -n ] servicedir\n';
const SHORT: Record<string, Field> = { u: 'up', w: 'wantedup', N: 'normallyup', r: 'ready', p: 'pid', e: 'exitcode', s: 'signal', t: 'updownfor' };
const FIELDS = ['up', 'wantedup', 'normallyup', 'ready', 'paused', 'pid', 'exitcode', 'signal', 'signum', 'updownsince', 'readysince', 'updownfor', 'readyfor'] as const;
type Field = (typeof FIELDS)[number];

class Exit extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}

/** s6-svstat's options: the fields asked for (null: the sentence), -n, the service dir. */
export function parseSvstatArgs(argv: readonly string[]): { fields: string[] | null; numeric: boolean; dir: string } {
  const args = [...argv];
  let fields: string[] | null = null;
  let numeric = false;
  while (args.length > 0 && args[0]!.startsWith('-') && args[0] !== '-') {
    const opt = args.shift()!;
    if (opt === '--') break;
    for (let i = 1; i < opt.length; i++) {
      const c = opt[i]!;
      if (c === 'n') numeric = true;
      else if (c === 'o') {
        const rest = opt.slice(i + 1) || args.shift();
        if (rest === undefined) throw new Exit(EXIT_USAGE, USAGE);
        fields = [...(fields ?? []), ...rest.split(',')];
        break;
      } else if (c in SHORT) fields = [...(fields ?? []), SHORT[c]!];
      else throw new Exit(EXIT_USAGE, USAGE);
    }
  }
  if (args.length !== 1) throw new Exit(EXIT_USAGE, USAGE);
  return { fields, numeric, dir: args[0]! };
}

/** What s6-svstat prints for `status` at time `now` (ms). */
export function svstatText(status: ServiceStatus, fields: readonly string[] | null, numeric: boolean, now: number): string {
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  const seconds = (iso: string | null) => {
    const t = ms(iso);
    return t === null ? 0 : Math.max(0, Math.floor((now - t) / 1000));
  };
  // A TAI64N label, as s6 prints timestamps: 2^62 + TAI seconds, then nanoseconds. TAI is UTC
  // plus 10 s plus the leap seconds so far (27, the last one at the end of 2016).
  const tai64n = (iso: string | null) => {
    const t = ms(iso);
    if (t === null) return 'NA';
    const secs = (1n << 62n) + 37n + BigInt(Math.floor(t / 1000));
    const nanos = (t % 1000) * 1_000_000;
    return `@${secs.toString(16).padStart(16, '0')}${nanos.toString(16).padStart(8, '0')}`;
  };
  const up = status.pid !== null;
  const last = status.lastExit;
  const killedBy = !up && last !== null && 'signal' in last ? last.signal : null;
  // A service that never ran is, for s6, down with a wait status of 0: "exitcode 0".
  const exitcode = up || killedBy !== null ? -1 : last !== null && 'code' in last ? last.code : 0;
  const ready = up && status.ready;
  const signum = killedBy === null ? -1 : (signalNumber(killedBy) ?? -1);
  const value: Record<Field, string> = {
    up: String(up),
    wantedup: String(status.goal === 'up'),
    normallyup: String(status.normallyUp),
    ready: String(ready),
    paused: 'false',
    pid: String(up ? status.pid : -1),
    exitcode: String(exitcode),
    signal: killedBy ?? 'NA',
    signum: String(signum),
    updownsince: tai64n(status.upDownSince),
    readysince: tai64n(status.readySince),
    updownfor: String(seconds(status.upDownSince)),
    readyfor: String(seconds(status.readySince)),
  };
  if (fields !== null) {
    for (const f of fields) if (!(FIELDS as readonly string[]).includes(f)) throw new Exit(EXIT_USAGE, `s6-svstat: fatal: invalid option field: ${f}\n`);
    return `${fields.map((f) => value[f as Field]).join(' ')}\n`;
  }
  const parts: string[] = [];
  if (up) {
    parts.push(`up (pid ${status.pid}) ${value.updownfor} seconds`);
    if (value.normallyup !== 'true') parts.push('normally down');
    if (value.wantedup !== 'true') parts.push('want down');
  } else {
    const how = killedBy !== null ? `signal ${numeric ? value.signum : killedBy}` : `exitcode ${exitcode}`;
    parts.push(`down (${how}) ${value.updownfor} seconds`);
    if (value.normallyup === 'true') parts.push('normally up');
    if (value.wantedup === 'true') parts.push('want up');
  }
  // s6 shows readiness while up, and while down once the finish script is done.
  if (ready || (!up && status.readySince !== null)) parts.push(`ready ${value.readyfor} seconds`);
  return `${parts.join(', ')}\n`;
}

/** Runs s6-svstat with `argv` (its arguments) and exits as s6's does: 1 unknown service, 111 no warden, 100 usage. */
export async function s6Svstat(argv: readonly string[]): Promise<never> {
  try {
    const { fields, numeric, dir } = parseSvstatArgs(argv);
    let path = dir;
    try {
      path = realpathSync(dir);
    } catch {
      // Not a path here: its last component still names the service.
    }
    let status: ServiceStatus;
    try {
      status = (await call({ cmd: 'status', services: [basename(path)] }))[0]!;
    } catch (err) {
      // An unknown service (s6: no s6-supervise there) fails with 1; an unreachable warden with 111.
      const unknown = err instanceof CliError && err.exitCode === EXIT_FAILED;
      throw new Exit(unknown ? 1 : EXIT_CANNOT_START, `s6-svstat: fatal: unable to read status for ${dir}${unknown ? ': s6-supervise not running' : ''}\n`);
    }
    process.stdout.write(svstatText(status, fields, numeric, Date.now()));
    process.exit(0);
  } catch (err) {
    if (!(err instanceof Exit)) throw err;
    process.stderr.write(err.text);
    process.exit(err.code);
  }
}
