import { constants } from 'node:os';
import { excerpt } from './config-problem.js';

export type SignalParse = { readonly ok: true; readonly signal: string } | { readonly ok: false; readonly message: string };

const KNOWN: Readonly<Record<string, number>> = constants.signals;

/**
 * Parses a down-signal: a name with or without "SIG", any case (`TERM`, `SIGINT`, `sighup`),
 * or a number as s6's sig0_scan accepts; returns the canonical `SIGNAME` form.
 */
export function parseSignalName(text: string): SignalParse {
  const raw = text.trim();
  let name: string | undefined;
  if (/^\d+$/.test(raw)) {
    const num = Number(raw);
    // The first name wins for aliases (SIGABRT before SIGIOT, SIGIO before SIGPOLL).
    name = Object.keys(KNOWN).find((k) => KNOWN[k] === num);
  } else {
    const upper = raw.toUpperCase();
    const candidate = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (Object.prototype.hasOwnProperty.call(KNOWN, candidate)) name = candidate;
  }
  if (name === undefined) {
    return {
      ok: false,
      message: `expected a signal name such as TERM, INT, HUP, QUIT, USR1 or KILL, got ${excerpt(raw)}`,
    };
  }
  if (name === 'SIGSTOP') {
    return {
      ok: false,
      message:
        'SIGSTOP cannot stop a service: it only pauses the process, which then never exits, so warden would wait for the kill timeout every time; use TERM, INT or KILL',
    };
  }
  return { ok: true, signal: name };
}
