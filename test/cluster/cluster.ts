/** A test cluster: the network, its nodes, and the balancer's HAProxy seen through its runtime API. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeApi } from '../../src/stack/haproxy/runtime-api.js';
import type { RuntimeServer, StatRow } from '../../src/stack/haproxy/runtime-state.js';
import { ADMIN_FORCED_MAINT } from '../../src/stack/haproxy/runtime-state.js';
import { Network, SUBNET_PREFIX, type NodeNet } from './netns.js';
import { eventually, REPO_ROOT, StackNode, type Role } from './stack-node.js';

export const BALANCER_HOST = 1;
export const BALANCER_ADDRESS = `${SUBNET_PREFIX}.${BALANCER_HOST}`;

export class Cluster {
  readonly net: Network;
  readonly dir: string;
  /** The balancer's own copy of the templates: a test breaks and restores it. */
  readonly templateDir: string;
  readonly nodes = new Map<string, StackNode>();
  private readonly nets = new Map<string, NodeNet>();
  private nextHost = 10;

  constructor(tag: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'warden-cluster-'));
    this.templateDir = join(this.dir, 'templates');
    cpSync(join(REPO_ROOT, 'src/stack/haproxy/templates'), this.templateDir, { recursive: true });
    this.net = Network.create(tag);
  }

  private start(name: string, role: Role, host: number, env: Record<string, string>): StackNode {
    if (this.nodes.has(name)) throw new Error(`node ${name} exists`);
    const net = this.net.addNode(name, host);
    this.nets.set(name, net);
    const node = new StackNode({ name, role, net, dir: join(this.dir, name), env });
    this.nodes.set(name, node);
    return node;
  }

  /** A webapp node (webapp + serf) that retry-joins the balancer's address. */
  startBackend(name: string): StackNode {
    return this.start(name, 'backend', this.nextHost++, { SERF_JOIN: BALANCER_ADDRESS });
  }

  /**
   * The balancer (haproxy + serf + handler): frontend :80, stats :1936 inside its namespace, the
   * sockets warden holds for the haproxy service (its `listen` file; haproxy.cfg binds fd@3, fd@4).
   */
  startBalancer(): StackNode {
    return this.start('balancer', 'balancer', BALANCER_HOST, {
      STACK_TEMPLATE_DIR: this.templateDir,
      STACK_DRAIN_TIMEOUT_MS: '5000',
    });
  }

  get balancer(): StackNode {
    const b = this.nodes.get('balancer');
    if (b === undefined) throw new Error('no balancer started');
    return b;
  }

  get api(): RuntimeApi {
    return new RuntimeApi(join(this.balancer.runDir, 'haproxy-admin.sock'), join(this.balancer.runDir, 'haproxy-master.sock'));
  }

  /** The servers HAProxy has now (empty while it does not answer). */
  async servers(): Promise<RuntimeServer[]> {
    try {
      return await this.api.serversState('webapps');
    } catch {
      return [];
    }
  }

  /** Names of the servers in rotation: present and not in maintenance. */
  async inRotation(): Promise<string[]> {
    return (await this.servers()).filter((s) => (s.adminState & ADMIN_FORCED_MAINT) === 0).map((s) => s.name);
  }

  async stat(): Promise<StatRow[]> {
    return this.api.stat();
  }

  /** Waits until the servers in rotation are exactly `names`. */
  async waitForRotation(names: readonly string[], timeoutMs: number): Promise<void> {
    const want = [...names].sort().join(',');
    let seen = '';
    await eventually(
      `servers in rotation = [${want}]`,
      async () => {
        seen = (await this.inRotation()).sort().join(',');
        return seen === want;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last seen [${seen}]); ${this.nodes.get('balancer')?.tail() ?? ''}`);
    });
  }

  /** Takes a stopped (or killed) node off the network. */
  removeNet(name: string): void {
    const net = this.nets.get(name);
    if (net) this.net.removeNode(net);
    this.nets.delete(name);
  }

  /** SIGKILLs every node, deletes every namespace and the temp dir. Safe to call twice. */
  async destroy(keepDir = false): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.kill()));
    this.net.destroy();
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
