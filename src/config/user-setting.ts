/**
 * The `user` setting: `USER[:GROUP]`, names or numbers, as `docker run --user` takes it. Names are
 * looked up in the container's /etc/passwd and /etc/group when the dir is read, so a typo is a
 * problem naming the file, not a service that fails at each start.
 */
import { readFile } from 'node:fs/promises';
import { excerpt, problem } from './config-problem.js';
import { firstLine, type Parsed } from './setting-files.js';
import type { RunAs } from '../core/service-spec.js';

/** Users (name → uid and primary gid) and groups (name → gid) of the container. */
export interface Accounts {
  readonly users: ReadonlyMap<string, { readonly uid: number; readonly gid: number }>;
  readonly groups: ReadonlyMap<string, number>;
}

/** Reads /etc/passwd and /etc/group texts (`name:x:uid:gid:…`, `name:x:gid:…`). */
export function parseAccounts(passwd: string, group: string): Accounts {
  const users = new Map<string, { uid: number; gid: number }>();
  for (const fields of records(passwd)) {
    const [name, , uid, gid] = fields;
    if (name && isId(uid) && isId(gid)) users.set(name, { uid: Number(uid), gid: Number(gid) });
  }
  const groups = new Map<string, number>();
  for (const [name, , gid] of records(group)) if (name && isId(gid)) groups.set(name, Number(gid));
  return { users, groups };
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** The container's accounts (a missing file holds none). */
export async function readAccounts(): Promise<Accounts> {
  const text = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');
  return parseAccounts(await text('/etc/passwd'), await text('/etc/group'));
}

const isId = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s) && Number(s) < 2 ** 32;

const EXPECTED = 'USER or USER:GROUP (names or numbers, e.g. www-data or 1000:1000)';

export function parseUser(file: string, text: string, accounts: Accounts): Parsed<RunAs> {
  const line = firstLine(file, text, EXPECTED);
  if (!line.ok) return line;
  const [user, group, extra] = line.value.split(':');
  const bad = (message: string): Parsed<RunAs> => ({ ok: false, problems: [problem(file, message, 1)] });
  if (!user || group === '' || extra !== undefined) return bad(`expected ${EXPECTED}, got ${excerpt(line.value)}`);
  const account = accounts.users.get(user);
  if (!isId(user) && account === undefined) return bad(`no user ${excerpt(user)} in /etc/passwd`);
  const uid = account?.uid ?? Number(user);
  let gid: number | undefined = account?.gid;
  if (group !== undefined) gid = isId(group) ? Number(group) : accounts.groups.get(group);
  if (group !== undefined && gid === undefined) return bad(`no group ${excerpt(group)} in /etc/group`);
  // A bare uid with no passwd entry gets the group of the same number, never root's group 0.
  return { ok: true, value: { uid, gid: gid ?? uid, label: line.value } };
}
