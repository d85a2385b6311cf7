/**
 * A private network for the cluster test, made of network namespaces only: a "switch" namespace
 * holding a bridge, and one namespace per node with a veth into that bridge and an address in
 * 10.77.0.0/24. Nothing is added to the host's own namespace. Every name carries the test's pid,
 * so leftovers of a crashed run are recognised (their pid is dead) and removed.
 */
import { execFileSync } from 'node:child_process';
import { pidExists } from '../../src/adapters/signals.js';

export const SUBNET_PREFIX = '10.77.0';
const PREFIX = 'wst';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}


/** Every namespace name that exists now. */
export function namespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

/** Deletes the namespaces of earlier runs of this test whose process is gone; kills what still runs in them. */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const ns of namespaces()) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(ns);
    if (!match || pidExists(Number(match[1]))) continue;
    deleteNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

/** SIGKILLs the processes left in `ns` (they are the test's own), then deletes it. */
export function deleteNamespace(ns: string): void {
  for (let round = 0; round < 3; round++) {
    let pids: number[] = [];
    try {
      pids = ip('netns', 'pids', ns)
        .split('\n')
        .filter((l) => /^\d+$/.test(l.trim()))
        .map(Number);
    } catch {
      return; // Gone already.
    }
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already dead.
      }
    }
    execFileSync('sleep', ['0.2']);
  }
  try {
    ip('netns', 'del', ns);
  } catch {
    // Gone already.
  }
}

export interface NodeNet {
  readonly ns: string;
  readonly address: string;
}

export class Network {
  private readonly made: string[] = [];
  private nextHost = 1;
  readonly switchNs: string;

  private constructor(readonly tag: string) {
    this.switchNs = `${PREFIX}${process.pid}-${tag}-sw`;
  }

  /** The switch namespace with its bridge. */
  static create(tag: string): Network {
    const net = new Network(tag);
    ip('netns', 'add', net.switchNs);
    net.made.push(net.switchNs);
    ip('-n', net.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', net.switchNs, 'link', 'set', 'br0', 'up');
    return net;
  }

  /** A node's namespace: loopback up, `eth0` on the bridge with the next address (`host` to choose it). */
  addNode(name: string, host = this.nextHost++): NodeNet {
    if (host < 1 || host > 254) throw new Error(`host number ${host} is outside 1–254`);
    const ns = `${PREFIX}${process.pid}-${this.tag}-${name}`;
    const port = `v${host}`;
    const address = `${SUBNET_PREFIX}.${host}`;
    ip('netns', 'add', ns);
    this.made.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', this.switchNs, 'link', 'set', port, 'master', 'br0', 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    return { ns, address };
  }

  /** Removes one node's namespace (its veth pair goes with it): the node is off the network. */
  removeNode(node: NodeNet): void {
    deleteNamespace(node.ns);
    const i = this.made.indexOf(node.ns);
    if (i >= 0) this.made.splice(i, 1);
  }

  /** Deletes every namespace made here, nodes first. */
  destroy(): void {
    for (const ns of [...this.made].reverse()) deleteNamespace(ns);
    this.made.length = 0;
  }
}
