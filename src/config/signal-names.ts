import { normalizeSignal } from '../protocol/signal-name.js';
import { excerpt } from './config-problem.js';

export type SignalParse = { readonly ok: true; readonly signal: string } | { readonly ok: false; readonly message: string };

/**
 * Parses a down-signal: a name with or without "SIG", any case (`TERM`, `SIGINT`, `sighup`),
 * or a number as s6's sig0_scan accepts; returns the canonical `SIGNAME` form.
 */
export function parseSignalName(text: string): SignalParse {
  const raw = text.trim();
  const name = normalizeSignal(raw);
  if (name === null) {
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
