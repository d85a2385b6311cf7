/**
 * The `up` and `down` files of s6-rc oneshots are execline scripts, not executables: s6-rc
 * runs them as `execlineb -P FILE`. Nearly every s6-overlay image writes one command line
 * there (`/etc/s6-overlay/scripts/init-config`), so warden splits such a line into argv itself,
 * with execline's quoting rules, and needs execline only for real execline scripts (blocks,
 * `importas`, `${VAR}` substitution…), which it hands to `execlineb -P`.
 */

export type ExeclineScript =
  /** Nothing to run (an empty file, or only comments): s6-rc treats it as success. */
  | { readonly kind: 'empty' }
  /** One plain command: warden execs this argv directly (no shell, as execline does). */
  | { readonly kind: 'argv'; readonly argv: readonly string[] }
  /** Needs execline itself: run as `execlineb -P FILE`; `why` says which construct needs it. */
  | { readonly kind: 'execline'; readonly why: string };

export type TokenizeResult = { readonly ok: true; readonly words: readonly string[] } | { readonly ok: false; readonly message: string };

/**
 * Splits execline source into words: whitespace separates them, `#` starts a comment at the
 * start of a word, `"…"` quotes with C-like backslash escapes (`\n`, `\t`, `\"`, `\\`, and a
 * backslash-newline is removed); outside quotes a backslash keeps the next character.
 */
export function tokenizeExecline(text: string): TokenizeResult {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === '#' && word === null) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"') {
      word ??= '';
      i++;
      let closed = false;
      while (i < text.length) {
        const q = text[i]!;
        if (q === '"') {
          closed = true;
          i++;
          break;
        }
        if (q === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          word += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next === '\n' ? '' : next;
          i += 2;
        } else {
          word += q;
          i++;
        }
      }
      if (!closed) return { ok: false, message: 'a double quote is never closed' };
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[i + 1]!;
      i += 2;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return { ok: true, words };
}

/** Whether warden can run `text` itself (one plain command) or needs execlineb. */
export function classifyExecline(text: string): ExeclineScript | { readonly kind: 'error'; readonly message: string } {
  // `$` is substitution in execline only after importas/define…, which needs execlineb anyway;
  // a block brace is the other sign of a real script.
  const tokens = tokenizeExecline(text);
  if (!tokens.ok) return { kind: 'error', message: tokens.message };
  const words = tokens.words;
  if (words.length === 0) return { kind: 'empty' };
  const brace = words.find((w) => w === '{' || w === '}' || w === '');
  if (brace !== undefined) return { kind: 'execline', why: brace === '' ? 'an empty word' : `a "${brace}" block` };
  if (EXECLINE_PROGRAMS.has(words[0]!)) return { kind: 'execline', why: `the execline command ${words[0]}` };
  return { kind: 'argv', argv: words };
}

/**
 * execline's own chain-loading commands: a line starting with one of them means more than one
 * program, so it goes to execlineb even without braces (e.g. `importas -i X X prog $X`).
 */
const EXECLINE_PROGRAMS = new Set([
  'background',
  'backtick',
  'define',
  'elglob',
  'emptyenv',
  'envfile',
  'exec',
  'export',
  'fdmove',
  'fdclose',
  'fdswap',
  'forbacktickx',
  'foreground',
  'forx',
  'getpid',
  'heredoc',
  'if',
  'ifelse',
  'ifte',
  'ifthenelse',
  'import',
  'importas',
  'loopwhilex',
  'multidefine',
  'multisubstitute',
  'pipeline',
  'piperw',
  'redirfd',
  'runblock',
  'shift',
  'trap',
  'unexport',
  'wait',
  'withstdinas',
]);
