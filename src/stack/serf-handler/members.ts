/** Serf's membership as the handler reads it: `serf members -format=json` from the local agent. */
import { execa } from 'execa';
import { serverName, type Server } from '../haproxy/render.js';

export type MemberStatus = 'alive' | 'leaving' | 'left' | 'failed' | 'none';

export interface SerfMember {
  readonly name: string;
  /** Serf's gossip address (without its port). */
  readonly address: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: MemberStatus | string;
}

/** The agent's answer was not the JSON we know. */
export class SerfError extends Error {
  override readonly name = 'SerfError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses `serf members -format=json`: `{"members":[{"name","addr":"IP:PORT","tags",…,"status"}]}`. */
export function parseSerfMembers(json: string): SerfMember[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new SerfError(`serf members: not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.members)) throw new SerfError('serf members: no "members" array');
  return parsed.members.map((m: unknown, i: number): SerfMember => {
    if (!isRecord(m) || typeof m.name !== 'string' || typeof m.addr !== 'string' || typeof m.status !== 'string') {
      throw new SerfError(`serf members: member ${i} lacks name, addr or status`);
    }
    const tags: Record<string, string> = {};
    if (isRecord(m.tags)) for (const [k, v] of Object.entries(m.tags)) if (typeof v === 'string') tags[k] = v;
    return { name: m.name, address: hostOf(m.addr), tags, status: m.status };
  });
}

/** `10.0.0.2:7946` → `10.0.0.2`; `[fd00::2]:7946` → `fd00::2`. */
function hostOf(addr: string): string {
  const bracket = /^\[(.*)\]:\d+$/.exec(addr);
  if (bracket) return bracket[1]!;
  const colon = addr.lastIndexOf(':');
  return colon > 0 && addr.indexOf(':') === colon ? addr.slice(0, colon) : addr;
}

/**
 * The backend's servers: every member with `role=backend` that is `alive`. Leaving, left and
 * failed members are not servers (the handler drains them). A `port` tag overrides `defaultPort`.
 */
export function desiredServers(members: readonly SerfMember[], defaultPort: number): Server[] {
  const servers = new Map<string, Server>();
  for (const m of members) {
    if (m.tags.role !== 'backend' || m.status !== 'alive') continue;
    const tagged = Number(m.tags.port);
    const port = Number.isInteger(tagged) && tagged > 0 && tagged < 65536 ? tagged : defaultPort;
    const name = serverName(m.name);
    servers.set(name, { name, address: m.address, port });
  }
  return [...servers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Asks the local agent (`-rpc-addr`) for every member it knows. */
export async function serfMembers(rpcAddr: string, bin = 'serf'): Promise<SerfMember[]> {
  const result = await execa(bin, ['members', '-format=json', `-rpc-addr=${rpcAddr}`], { reject: false, timeout: 5000 });
  if (result.exitCode !== 0) {
    throw new SerfError(`serf members -rpc-addr=${rpcAddr} failed (${result.exitCode ?? result.signal ?? '?'}): ${(result.stderr || result.stdout).trim()}`);
  }
  return parseSerfMembers(result.stdout);
}
