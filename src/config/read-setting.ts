import { open, stat } from 'node:fs/promises';
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
 * The most a setting file may hold. Settings are a word or a short list (a `dependencies` file of
 * a thousand names is ~20 KiB); without a cap, 64 MiB in `down-signal` took 2.7 GB of RSS.
 */
export const MAX_SETTING_BYTES = 64 * 1024;

/**
 * Reads an optional one-file setting, at most MAX_SETTING_BYTES of it. A missing file is `absent`; anything present but not
 * readable as text is a problem rather than an exception, so one bad service stays local.
 */
export async function readSettingFile(file: string): Promise<SettingRead> {
  try {
    const st = await stat(file);
    // Checked before reading: a FIFO would block the whole scan, a directory cannot be read.
    if (st.isDirectory()) return { kind: 'problem', problem: problem(file, 'is a directory: expected a file') };
    if (!st.isFile()) return { kind: 'problem', problem: problem(file, 'is not a regular file') };
    // One read of a bounded buffer, one byte more than allowed: the size stat said may have grown.
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_SETTING_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_SETTING_BYTES) {
        return { kind: 'problem', problem: problem(file, `holds more than ${MAX_SETTING_BYTES} bytes (${Math.max(st.size, bytesRead)}): a setting file holds a word or a short list`) };
      }
      return { kind: 'text', text: buffer.toString('utf8', 0, bytesRead) };
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isMissing(err)) return { kind: 'absent' };
    return { kind: 'problem', problem: problem(file, describeError(err)) };
  }
}
