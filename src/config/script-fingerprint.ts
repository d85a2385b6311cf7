/**
 * What tells a rescan that a service's scripts were edited. No hash: node:crypto alone would cost
 * PID 1 ~0.75 MB of memory for its whole life, and scripts are small enough to compare whole.
 */
import { open } from 'node:fs/promises';

/**
 * Scripts up to this size count by their bytes, exactly. A bigger file (a program put in as
 * `run`) counts by size, times and inode, which any write changes: touching it counts as an edit.
 */
export const WHOLE_SCRIPT_MAX_BYTES = 16 * 1024;

/** One script as the fingerprint records it: its bytes, its stat identity, or null when absent. */
export type ScriptPart = { readonly bytes: Buffer } | { readonly identity: string } | null;

/** The parts in one string; length prefixes keep any two different lists apart. */
export function fingerprintOf(parts: readonly ScriptPart[]): string {
  return parts
    .map((p) => {
      if (p === null) return '-';
      const text = 'bytes' in p ? `b${p.bytes.toString('latin1')}` : `s${p.identity}`;
      return `${text.length}:${text}`;
    })
    .join('');
}

async function partOf(file: string | null): Promise<ScriptPart> {
  if (file === null) return null;
  const handle = await open(file, 'r').catch(() => null);
  if (handle === null) return null;
  try {
    const st = await handle.stat({ bigint: true });
    if (st.size > WHOLE_SCRIPT_MAX_BYTES) return { identity: `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}` };
    return { bytes: await handle.readFile() };
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** The fingerprint of these files (null: no such script). */
export async function scriptsFingerprint(files: readonly (string | null)[]): Promise<string> {
  return fingerprintOf(await Promise.all(files.map(partOf)));
}
