/** A mistake found in a service directory, reported to the user instead of thrown. */
export interface ConfigProblem {
  /** Absolute path of the file (or directory) the problem is about. */
  readonly file: string;
  /** 1-based line when the problem is about file content, else null. */
  readonly line: number | null;
  readonly message: string;
}

/**
 * Renders a problem the way compilers do, so editors and terminals can jump to it: always one
 * line, so a path holding a newline is quoted rather than splitting its problem in two.
 */
export function formatProblem(p: ConfigProblem): string {
  const file = showPath(p.file);
  return oneLine(p.line === null ? `${file}: ${p.message}` : `${file}:${p.line}: ${p.message}`);
}

/** Control characters (a newline, an escape sequence) that must not reach a terminal or log line raw. */
// eslint-disable-next-line no-control-regex -- finding them is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** A path as it is shown: as is when plain, JSON-quoted when it holds a control character or a quote. */
export function showPath(path: string): string {
  return hasControl(path) || path.includes('"') ? JSON.stringify(path) : path;
}

/** `text` with its control characters escaped as JSON escapes them. */
function oneLine(text: string): string {
  return hasControl(text) ? text.replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1)) : text;
}

function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/** The most of a file's text a problem quotes: a 64 MiB line must not become a 64 MiB message. */
export const EXCERPT_CHARS = 80;

/** What a file held, quoted for a message, cut to EXCERPT_CHARS with the full length said. */
export function excerpt(text: string): string {
  if (text.length <= EXCERPT_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, EXCERPT_CHARS))}… (${text.length} characters)`;
}

/** A unit warden knows by its dir but cannot run: its files have problems, or what it needs does. */
export interface InvalidUnit {
  readonly name: string;
  readonly dir: string;
  readonly problems: readonly ConfigProblem[];
}

/** The problems about `dir` itself or a file below it. */
export function problemsUnder(problems: readonly ConfigProblem[], dir: string): ConfigProblem[] {
  return problems.filter((p) => p.file === dir || p.file.startsWith(`${dir}/`));
}

/** Builds a ConfigProblem; `line` defaults to null (the problem is about the file, not a line). */
export function problem(file: string, message: string, line: number | null = null): ConfigProblem {
  return { file, line, message };
}
