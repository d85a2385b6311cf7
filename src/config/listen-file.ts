/**
 * The `listen` file: the sockets warden holds for a service, one per line, bound once and
 * passed to every run (systemd's socket activation, s6's fd holder). A line is
 * `tcp:ADDR:PORT`, `tcp6:ADDR:PORT` (ADDR may be bracketed) or `unix:PATH`, then optionally a
 * backlog; blank lines and `#` comments are skipped. Addresses are numeric: a name would make
 * the bind depend on a resolver at boot.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { ListenSpec } from '../core/service-spec.js';
import { excerpt, problem, type ConfigProblem } from './config-problem.js';
import type { Parsed } from './setting-files.js';

/** What the kernel caps a backlog to anyway (somaxconn's ceiling). */
const MAX_BACKLOG = 65535;
/** systemd's default (SOMAXCONN): the backlog when a line gives none. */
export const DEFAULT_BACKLOG = 4096;
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_UNIX_PATH = 107;
/** fds 3 … 3+N-1 go to the sockets; a notification fd or more sockets must fit below 1024. */
const MAX_SOCKETS = 64;

const FORMS = 'tcp:ADDR:PORT, tcp6:ADDR:PORT or unix:PATH, then an optional backlog';

export function parseListen(file: string, text: string): Parsed<readonly ListenSpec[]> {
  const specs: ListenSpec[] = [];
  const problems: ConfigProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parsed = parseLine(line, i + 1);
    if (typeof parsed === 'string') problems.push(problem(file, parsed, i + 1));
    else if (specs.some((s) => sameEndpoint(s, parsed))) problems.push(problem(file, `${excerpt(line)} is already on an earlier line`, i + 1));
    else specs.push(parsed);
  });
  if (specs.length > MAX_SOCKETS) problems.push(problem(file, `has ${specs.length} sockets: at most ${MAX_SOCKETS}`));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: specs };
}

/** The spec of one non-blank line, or what is wrong with it. */
function parseLine(text: string, line: number): ListenSpec | string {
  const [endpoint = '', backlogText, ...rest] = text.split(/\s+/);
  if (rest.length > 0) return `expected ${FORMS}, got ${excerpt(text)}`;
  let backlog = DEFAULT_BACKLOG;
  if (backlogText !== undefined) {
    backlog = Number(backlogText);
    if (!/^\d+$/.test(backlogText) || backlog < 1 || backlog > MAX_BACKLOG) return `expected a backlog from 1 to ${MAX_BACKLOG} after the address, got ${excerpt(backlogText)}`;
  }
  const colon = endpoint.indexOf(':');
  const family = endpoint.slice(0, colon);
  const rest1 = endpoint.slice(colon + 1);
  if (family === 'unix') {
    if (!rest1.startsWith('/')) return `expected an absolute path after unix:, got ${excerpt(rest1)}`;
    if (Buffer.byteLength(rest1) > MAX_UNIX_PATH) return `a unix socket path holds at most ${MAX_UNIX_PATH} bytes, got ${Buffer.byteLength(rest1)}`;
    return { family, path: rest1, backlog, line };
  }
  if (family !== 'tcp' && family !== 'tcp6') return `expected ${FORMS}, got ${excerpt(text)}`;
  const at = rest1.lastIndexOf(':');
  if (at < 0) return `expected ${family}:ADDR:PORT, got ${excerpt(text)}`;
  const portText = rest1.slice(at + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return `expected a port from 1 to 65535, got ${excerpt(portText)}`;
  let host = rest1.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const valid = family === 'tcp' ? isIPv4(host) : isIPv6(host);
  if (!valid) return `expected a numeric ${family === 'tcp' ? 'IPv4 address (0.0.0.0 for all)' : 'IPv6 address (:: for all)'}, got ${excerpt(host)}`;
  return { family, host, port, backlog, line };
}

/** Two lines that would bind the same address (the second bind would fail). */
export function sameEndpoint(a: ListenSpec, b: ListenSpec): boolean {
  return endpointKey(a) === endpointKey(b);
}

/** The address a spec binds, without its backlog or line: `tcp:127.0.0.1:80`, `unix:/run/x.sock`. */
export function endpointKey(s: ListenSpec): string {
  return s.family === 'unix' ? `unix:${s.path}` : `${s.family}:[${s.host}]:${s.port}`;
}
