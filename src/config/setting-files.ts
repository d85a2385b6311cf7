import { excerpt, problem, type ConfigProblem } from './config-problem.js';
import { serviceNameError } from './service-name.js';
import { parseSignalName } from './signal-names.js';
import { signalNumberOf } from '../protocol/signal-name.js';
import type { NotifyAccess, OnExit, RestartDelay, RestartPolicy } from '../core/service-spec.js';
import { isForwarded, SIGNAL_TABLE } from '../core/signal-table.js';
import { MAX_TIMER_MS } from '../core/timer-limit.js';

/** The outcome of parsing one setting file's text. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(file: string, message: string, line: number | null = 1): Parsed<T> {
  return { ok: false, problems: [problem(file, message, line)] };
}

export { MAX_TIMER_MS };

const INTEGER = /^\d+$/;

/**
 * The value of a one-value file: its first line, trimmed. Like s6, only the first line counts,
 * so a comment or blank line there is a mistake, not something to skip.
 */
export function firstLine(file: string, text: string, expected: string): Parsed<string> {
  if (text.trim() === '') return fail(file, `is empty: expected ${expected}`, null);
  const line = (text.split('\n', 1)[0] ?? '').trim();
  if (line === '') {
    return fail(file, `expected ${expected} on the first line (only the first line is read), got an empty line`);
  }
  if (line.startsWith('#')) {
    return fail(
      file,
      `expected ${expected} on the first line (only the first line is read; comments are not allowed here), got ${excerpt(line)}`,
    );
  }
  return ok(line);
}

/** Parses a millisecond setting (`timeout-kill`, `timeout-finish`, `restart-reset`); `example` goes in the message. */
export function parseMilliseconds(file: string, text: string, example: number): Parsed<number> {
  const expected = `a whole number of milliseconds (e.g. ${example})`;
  const line = firstLine(file, text, expected);
  if (!line.ok) return line;
  if (!INTEGER.test(line.value)) return fail(file, `expected ${expected}, got ${excerpt(line.value)}`);
  const ms = Number(line.value);
  if (ms > MAX_TIMER_MS) {
    return fail(file, `expected at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest a Node timer can wait), got ${excerpt(line.value)}`);
  }
  return ok(ms);
}

/** Parses `notification-fd` (s6): the fd the program writes a newline to when ready. */
export function parseNotificationFd(file: string, text: string): Parsed<number> {
  const expected = 'a file descriptor number from 3 to 1023';
  const line = firstLine(file, text, expected);
  if (!line.ok) return line;
  if (!INTEGER.test(line.value)) return fail(file, `expected ${expected}, got ${excerpt(line.value)}`);
  const fd = Number(line.value);
  if (fd <= 2) {
    return fail(file, `expected ${expected}, got ${fd}: 0, 1 and 2 are stdin, stdout and stderr, which the service already uses`);
  }
  if (fd > 1023) return fail(file, `expected ${expected}, got ${excerpt(line.value)}`);
  return ok(fd);
}

/** Parses `check-interval`: ms between the end of one check run and the start of the next (at least 10). */
export function parseCheckInterval(file: string, text: string): Parsed<number> {
  return parseWholeNumber(file, text, 'milliseconds', 10, MAX_TIMER_MS);
}

/** Parses `check-timeout`: ms a check run may take; 0 = no limit. */
export function parseCheckTimeout(file: string, text: string): Parsed<number> {
  return parseMilliseconds(file, text, 2000);
}

/** Parses `check-retries`: failed runs in a row that restart the service (1 to 1000). */
export function parseCheckRetries(file: string, text: string): Parsed<number> {
  return parseWholeNumber(file, text, 'failed runs', 1, 1000);
}

/** Parses a count within MIN..MAX (`log-max-bytes`, `log-keep`); `unit` names what is counted. */
export function parseWholeNumber(file: string, text: string, unit: string, min: number, max: number): Parsed<number> {
  const expected = `a whole number of ${unit} from ${min} to ${max}`;
  const line = firstLine(file, text, expected);
  if (!line.ok) return line;
  const value = Number(line.value);
  if (!INTEGER.test(line.value) || value < min || value > max) return fail(file, `expected ${expected}, got ${excerpt(line.value)}`);
  return ok(value);
}

/** Parses `max-death-tally` (s6): 0 to 4096, s6's own limit. */
export function parseMaxDeathTally(file: string, text: string): Parsed<number> {
  const expected = "a whole number from 0 to 4096 (s6's maximum)";
  const line = firstLine(file, text, expected);
  if (!line.ok) return line;
  if (!INTEGER.test(line.value) || Number(line.value) > 4096) {
    return fail(file, `expected ${expected}, got ${excerpt(line.value)}`);
  }
  return ok(Number(line.value));
}

/** Parses `down-signal` (s6) into the `SIGNAME` form. */
export function parseDownSignal(file: string, text: string): Parsed<string> {
  const line = firstLine(file, text, 'a signal name such as TERM or INT');
  if (!line.ok) return line;
  const sig = parseSignalName(line.value);
  return sig.ok ? ok(sig.signal) : fail(file, sig.message);
}

/**
 * Parses `forward-signals`: which of the signals PID 1 forwards to CMD this service gets too.
 * Empty: every one of them; else signal names or numbers, separated by spaces or lines.
 */
export function parseForwardSignals(file: string, text: string): Parsed<readonly number[]> {
  const forwarded = SIGNAL_TABLE.filter((e) => isForwarded(e.role) || e.role === 'hup');
  const words = text.split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return ok(forwarded.map((e) => e.number));
  const chosen = new Set<number>();
  for (const word of words) {
    const number = signalNumberOf(word);
    const entry = forwarded.find((e) => e.number === number);
    if (entry === undefined) {
      const line = text.split('\n').findIndex((l) => l.split(/\s+/).includes(word)) + 1;
      return fail(
        file,
        `${excerpt(word)} is not a signal warden forwards: expected names such as HUP, USR1, USR2, WINCH or RTMIN+3, or nothing for all of them (TERM, INT, QUIT and PWR stop the container instead)`,
        line,
      );
    }
    chosen.add(entry.number);
  }
  return ok([...chosen].sort((a, b) => a - b));
}

function parseWord<T extends string>(file: string, text: string, words: readonly T[]): Parsed<T> {
  const expected = `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
  const line = firstLine(file, text, expected);
  if (!line.ok) return line;
  const found = words.find((w) => w === line.value);
  return found === undefined ? fail(file, `expected ${expected}, got ${excerpt(line.value)}`) : ok(found);
}

/** Parses warden's `restart`: always | on-failure | never. */
export function parseRestart(file: string, text: string): Parsed<RestartPolicy> {
  return parseWord<RestartPolicy>(file, text, ['always', 'on-failure', 'never']);
}

/** Parses warden's `on-exit`: restart | halt. */
export function parseOnExit(file: string, text: string): Parsed<OnExit> {
  return parseWord<OnExit>(file, text, ['restart', 'halt']);
}

/**
 * Parses warden's `notify-socket`: `all` (or empty, or the `1` older dirs hold) lets the run's
 * main process and its descendants report; `main` only the main process.
 */
export function parseNotifyAccess(file: string, text: string): Parsed<NotifyAccess> {
  if (text.trim() === '') return ok('all');
  const word = parseWord<NotifyAccess | '1'>(file, text, ['all', 'main', '1']);
  if (!word.ok) return word;
  return ok(word.value === 'main' ? 'main' : 'all');
}

/** Parses warden's `restart-delay`: `MIN MAX` in ms, MIN ≤ MAX. */
export function parseRestartDelay(file: string, text: string): Parsed<RestartDelay> {
  const expected = 'two whole numbers of milliseconds, MIN MAX (e.g. "0 30000")';
  const line = firstLine(file, text, expected);
  if (!line.ok) return line;
  const parts = line.value.split(/\s+/);
  const [min, max] = parts;
  if (parts.length !== 2 || min === undefined || max === undefined || !INTEGER.test(min) || !INTEGER.test(max)) {
    return fail(file, `expected ${expected}, got ${excerpt(line.value)}`);
  }
  const minMs = Number(min);
  const maxMs = Number(max);
  if (maxMs > MAX_TIMER_MS) {
    return fail(file, `expected MAX of at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest a Node timer can wait), got ${excerpt(max)}`);
  }
  if (minMs > maxMs) return fail(file, `expected MIN ≤ MAX, got MIN ${minMs} greater than MAX ${maxMs}`);
  return ok({ minMs, maxMs });
}

/**
 * Parses warden's `dependencies`: one name per line, `#` comments and blank lines skipped,
 * duplicates collapsed. Every bad line is reported, not just the first.
 */
export function parseDependencies(file: string, text: string, self: string): Parsed<readonly string[]> {
  const names: string[] = [];
  const problems: ConfigProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const name = raw.trim();
    if (name === '' || name.startsWith('#')) return;
    const lineNo = i + 1;
    const nameError = serviceNameError(name);
    if (nameError !== null) {
      problems.push(problem(file, `expected one service name per line: ${nameError}`, lineNo));
    } else if (name === self) {
      problems.push(problem(file, `service "${self}" cannot depend on itself`, lineNo));
    } else if (!names.includes(name)) {
      names.push(name);
    }
  });
  return problems.length > 0 ? { ok: false, problems } : ok(names);
}
