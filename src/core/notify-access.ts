/**
 * Who may report to a service's NOTIFY_SOCKET (systemd's NotifyAccess, by process tree instead
 * of cgroup): the socket is writable by all, so each datagram is judged by the credentials the
 * kernel attached to it (SCM_CREDENTIALS), never by what it says.
 */
import type { NotifyAccess } from './service-spec.js';

export interface Sender {
  readonly pid: number;
  readonly uid: number;
}

/** What the daemon reads from /proc: null when the process is gone. */
export interface ProcessLookup {
  parentOf(pid: number): number | null;
  uidOf(pid: number): number | null;
}

export type NotifyVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Parents walked up from a sender before giving up (a tree deeper than this is not a service's). */
const MAX_DEPTH = 64;

const refuse = (reason: string): NotifyVerdict => ({ ok: false, reason });

/**
 * May `sender` report for the run whose main process is `mainPid`? `main`: only that process.
 * `all`: it or any of its descendants, found by walking up the sender's parents. A sender gone
 * before warden reads its message (`warden notify` or `systemd-notify` in a script exits at
 * once) cannot be traced: it is taken when it ran as the main process's user, who could act as
 * the service anyway; another user's is refused.
 */
export function notifyVerdict(access: NotifyAccess, mainPid: number, sender: Sender | null, proc: ProcessLookup): NotifyVerdict {
  if (sender === null) return refuse('the message carries no sender credentials');
  if (sender.pid === mainPid) return { ok: true };
  if (access === 'main') return refuse(`pid ${sender.pid} is not the main process ${mainPid} (notify-socket says main)`);
  let pid = sender.pid;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const parent = proc.parentOf(pid);
    if (parent === null) {
      if (pid !== sender.pid) break;
      const mainUid = proc.uidOf(mainPid);
      return mainUid !== null && mainUid === sender.uid
        ? { ok: true }
        : refuse(`pid ${sender.pid} (uid ${sender.uid}) is gone and ran as another user than the main process (uid ${mainUid ?? 'unknown'})`);
    }
    if (parent === mainPid) return { ok: true };
    if (parent <= 1) break;
    pid = parent;
  }
  return refuse(`pid ${sender.pid} (uid ${sender.uid}) is not the main process ${mainPid} nor one of its descendants`);
}
