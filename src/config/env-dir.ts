import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { problem, type ConfigProblem } from './config-problem.js';
import { describeError, isMissing } from './read-setting.js';

export interface EnvDirResult {
  readonly env: Readonly<Record<string, string | null>>;
  readonly problems: ConfigProblem[];
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const NUL = 0x00;

/**
 * The value s6-envdir gives a file's bytes: null for a 0-byte file (unset the variable),
 * else the first line with trailing spaces and tabs removed and NULs turned into newlines.
 */
export function envValue(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return null;
  const nl = bytes.indexOf(NEWLINE);
  let end = nl === -1 ? bytes.length : nl;
  while (end > 0 && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end -= 1;
  // Work on bytes, not text: a NUL is how a multi-line value survives the one-line rule.
  const line = Buffer.from(bytes.subarray(0, end));
  for (let i = 0; i < line.length; i += 1) if (line[i] === NUL) line[i] = NEWLINE;
  return line.toString('utf8');
}

/** Reads an `env/` directory with s6-envdir rules; a missing dir is an empty environment. */
export async function readEnvDir(dir: string): Promise<EnvDirResult> {
  let names: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) {
      return { env: {}, problems: [problem(dir, 'is not a directory: env/ holds one file per variable (s6-envdir)')] };
    }
    names = await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return { env: {}, problems: [] };
    return { env: {}, problems: [problem(dir, describeError(err))] };
  }
  const entries: [string, string | null][] = [];
  const problems: ConfigProblem[] = [];
  for (const name of [...names].sort()) {
    if (name.startsWith('.')) continue; // s6-envdir skips dot files
    const file = join(dir, name);
    try {
      const st = await stat(file);
      if (st.isDirectory()) continue;
      if (!st.isFile()) {
        // Reading a FIFO would hang the scan; s6-envdir would hang the service start instead.
        problems.push(problem(file, 'is not a regular file: env/ holds one file per variable'));
        continue;
      }
      if (name.includes('=')) {
        problems.push(problem(file, `variable name ${JSON.stringify(name)} contains "=", which cannot appear in an environment variable name`));
        continue;
      }
      entries.push([name, envValue(await readFile(file))]);
    } catch (err) {
      problems.push(problem(file, isMissing(err) ? 'is a symlink to a missing file' : describeError(err)));
    }
  }
  return { env: Object.fromEntries(entries), problems };
}
