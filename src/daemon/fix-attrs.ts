/**
 * s6-overlay's fix-attrs.d (deprecated there, still shipped by images): each file holds lines
 * `PATHS RECURSE ACCOUNT[,FALLBACK] FILEMODE DIRMODE`, e.g.
 * `/var/lib/app true app,1000:1000 0640 0750`. PATHS is a glob; ACCOUNT is `user` or
 * `user:group` (names, or numbers), FALLBACK the `uid:gid` used when the account is not in
 * the container's passwd/group. Each path gets the owner; directories DIRMODE, files FILEMODE;
 * RECURSE `true` walks into directories (hidden entries only with S6_FIX_ATTRS_HIDDEN=1).
 */
import { chmod, chown, lstat, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../adapters/logger.js';
import { excerpt } from '../config/config-problem.js';
import { readAccounts, type Accounts } from '../config/user-setting.js';
import { listScripts } from './stage-scripts.js';

export interface FixAttrsOptions {
  readonly dirs: readonly string[];
  readonly logger: Logger;
  /** S6_FIX_ATTRS_HIDDEN: walk into hidden entries too. */
  readonly hidden: boolean;
}

/** Applies every file of the fix-attrs.d dirs, in name order; returns the failures (one line each). */
export async function fixAttrs(opts: FixAttrsOptions): Promise<string[]> {
  const files = await listScripts(opts.dirs);
  if (files.length === 0) return [];
  const accounts = await readAccounts();
  const failures: string[] = [];
  for (const file of files) {
    opts.logger.info({ event: 'fix-attrs', file }, 'fix-attrs');
    const text = await readFile(file, 'utf8').catch((err: unknown) => {
      failures.push(`${file}: cannot read it: ${String(err)}`);
      return '';
    });
    for (const [i, raw] of text.split('\n').entries()) {
      const words = raw.trim().split(/\s+/);
      if (words[0] === undefined || words[0] === '' || words[0].startsWith('#')) continue;
      const where = `${file}:${i + 1}`;
      if (words.length !== 5) {
        failures.push(`${where}: expected PATHS RECURSE ACCOUNT[,FALLBACK] FILEMODE DIRMODE, got ${excerpt(raw.trim())}`);
        continue;
      }
      const [paths, recurse, account, fmode, dmode] = words as [string, string, string, string, string];
      const owner = ownerOf(account, accounts);
      const fileMode = mode(fmode);
      const dirMode = mode(dmode);
      if (owner === null || fileMode === null || dirMode === null) {
        failures.push(`${where}: ${owner === null ? `no account ${excerpt(account)} and no uid:gid fallback` : `modes must be octal, got ${fmode} ${dmode}`}`);
        continue;
      }
      for (const path of await glob(paths)) {
        try {
          await apply(path, recurse === 'true', owner, fileMode, dirMode, opts.hidden);
        } catch (err) {
          failures.push(`${where}: ${path}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
  opts.logger.warn({ event: 'fix-attrs-deprecated' }, 'fix-attrs.d is deprecated (as in s6-overlay): set volume permissions in the container manager, or chown in a cont-init.d script');
  return failures;
}

async function apply(path: string, recurse: boolean, owner: { uid: number; gid: number }, fmode: number, dmode: number, hidden: boolean): Promise<void> {
  await chown(path, owner.uid, owner.gid);
  const st = await lstat(path);
  if (!st.isDirectory()) {
    if (!st.isSymbolicLink()) await chmod(path, fmode);
    return;
  }
  await chmod(path, dmode);
  if (!recurse) return;
  for (const name of await readdir(path)) {
    if (!hidden && name.startsWith('.')) continue;
    await apply(join(path, name), recurse, owner, fmode, dmode, hidden);
  }
}

/** uid and gid of `user[:group][,uid:gid]`; null when neither the account nor a fallback works. */
function ownerOf(entry: string, accounts: Accounts): { uid: number; gid: number } | null {
  const [account, fallback] = entry.split(',', 2) as [string, string | undefined];
  const [user, group] = account.split(':', 2) as [string, string | undefined];
  const number = (s: string): number | null => (/^\d+$/.test(s) ? Number(s) : null);
  const known = accounts.users.get(user);
  const uid = known?.uid ?? number(user);
  const gid = group === undefined ? (known?.gid ?? uid) : (accounts.groups.get(group) ?? number(group));
  if (uid !== null && gid !== null && gid !== undefined) return { uid, gid };
  if (fallback === undefined) return null;
  const [fu, fg] = fallback.split(':', 2);
  const u = number(fu ?? '');
  const g = number(fg ?? fu ?? '');
  return u === null || g === null ? null : { uid: u, gid: g };
}

function mode(text: string): number | null {
  return /^[0-7]{3,4}$/.test(text) ? parseInt(text, 8) : null;
}

/** The paths a shell would make of `pattern` (`*`, `?` and `[…]` within one component); none when nothing matches. */
async function glob(pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) return (await exists(pattern)) ? [pattern] : [];
  const parts = pattern.split('/');
  let found = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of parts) {
    if (part === '') continue;
    const next: string[] = [];
    for (const base of found) {
      if (!/[*?[]/.test(part)) {
        if (await exists(join(base, part))) next.push(join(base, part));
        continue;
      }
      const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
      const names = await readdir(base).catch(() => [] as string[]);
      for (const n of names.sort()) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(join(base, n));
    }
    found = next;
  }
  return found.filter((p) => p !== dirname(p) || pattern === '/');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
