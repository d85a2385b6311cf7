import { readFile, stat } from 'node:fs/promises';
import { problem, type ConfigProblem } from './config-problem.js';

export type SettingRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'problem'; readonly problem: ConfigProblem };

/** The error code of a failed fs call, or undefined for anything that is not a Node system error. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** True for the codes that mean "nothing is there" (ENOTDIR: a path component is a file). */
export function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Describes an fs failure for a user: the code says more than Node's message, which repeats the path. */
export function describeError(err: unknown): string {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') return `cannot read it: permission denied (${code})`;
  if (code !== undefined) return `cannot read it (${code})`;
  return `cannot read it: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Reads an optional one-file setting. A missing file is `absent`; anything present but not
 * readable as text is a problem rather than an exception, so one bad service stays local.
 */
export async function readSettingFile(file: string): Promise<SettingRead> {
  try {
    const st = await stat(file);
    // Checked before reading: a FIFO would block the whole scan, a directory cannot be read.
    if (st.isDirectory()) return { kind: 'problem', problem: problem(file, 'is a directory: expected a file') };
    if (!st.isFile()) return { kind: 'problem', problem: problem(file, 'is not a regular file') };
    return { kind: 'text', text: await readFile(file, 'utf8') };
  } catch (err) {
    if (isMissing(err)) return { kind: 'absent' };
    return { kind: 'problem', problem: problem(file, describeError(err)) };
  }
}
