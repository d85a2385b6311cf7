/**
 * Signal names as people write them (`TERM`, `SIGTERM`, `term`, `15`) → the one form warden
 * passes on (`SIGTERM`): the `signal` request and the `down-signal` file read them alike.
 * The names are those Node can send (its `os.constants.signals` on Linux): the signal table's
 * named signals and two aliases; a number takes the table's name (SIGABRT, not SIGIOT).
 * `forward-signals` names signals by number only, so it reads real-time names too (signalNumberOf).
 */
import { LAST_SIGNAL, SIGNAL_TABLE } from '../core/signal-table.js';

const ALIASES: readonly (readonly [string, number])[] = [
  ['SIGIOT', 6],
  ['SIGPOLL', 29],
];

const NAMED = SIGNAL_TABLE.filter((e) => e.name.startsWith('SIG') && !e.name.startsWith('SIGRT'));
const BY_NAME: ReadonlyMap<string, number> = new Map([...NAMED.map((e): [string, number] => [e.name, e.number]), ...ALIASES]);
const BY_NUMBER: ReadonlyMap<number, string> = new Map(NAMED.map((e) => [e.number, e.name]));
/** Real-time names (SIGRTMIN+3) too. */
const ANY_BY_NAME: ReadonlyMap<string, number> = new Map([...BY_NAME, ...SIGNAL_TABLE.filter((e) => e.name.startsWith('SIGRT')).map((e): [string, number] => [e.name, e.number])]);

/** What people wrote, as a number (digits only) or as a name in the `SIGNAME` form. */
function read(text: string): { readonly number: number } | { readonly name: string } {
  const upper = text.trim().toUpperCase();
  if (/^\d+$/.test(upper)) return { number: Number(upper) };
  return { name: upper.startsWith('SIG') ? upper : `SIG${upper}` };
}

/** The `SIGNAME` a signal name or number stands for, or null when it names none. */
export function normalizeSignal(text: string): string | null {
  const signal = read(text);
  if ('number' in signal) return BY_NUMBER.get(signal.number) ?? null;
  return BY_NAME.has(signal.name) ? signal.name : null;
}

/** The number of any signal (1 to 64) named or numbered as people write it, real-time names included (`RTMIN+3`); null when it names none. */
export function signalNumberOf(text: string): number | null {
  const signal = read(text);
  if ('number' in signal) return signal.number >= 1 && signal.number <= LAST_SIGNAL ? signal.number : null;
  return ANY_BY_NAME.get(signal.name) ?? null;
}

/** The number of a signal in the `SIGNAME` form (as a status reports it), or null. */
export function signalNumber(name: string): number | null {
  return BY_NAME.get(name) ?? null;
}

/** The `SIGNAME` of a signal number (the table's, not an alias: SIGABRT, SIGIO), or null. */
export function signalName(number: number): string | null {
  return BY_NUMBER.get(number) ?? null;
}
