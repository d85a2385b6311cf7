/**
 * HAProxy's runtime API and master CLI as the reconciler's unit tests drive it: the text
 * commands the handler sends, answered in HAProxy 2.6's words and table formats (the same
 * parsers read them), over a backend of servers whose sessions close at a virtual time. The
 * integration test (test/integration/stack-reconcile.test.ts) checks the same passes against
 * the real HAProxy.
 */
import { readFileSync } from 'node:fs';
import { RuntimeApiError, type SocketTransport } from '../../../src/stack/haproxy/runtime-api.js';

export interface VirtualServer {
  readonly address: string;
  readonly port: number;
  /** Forced maintenance (srv_admin_state bit 0x01): a runtime-added server starts in it. */
  maint: boolean;
  health: boolean;
  /** Sessions on it, until the virtual time `closeAt` (then 0). */
  sessions: number;
  closeAt: number;
}

export class VirtualHaproxy {
  /** Every command received, in order, `show …` included. */
  readonly commands: string[] = [];
  readonly servers = new Map<string, VirtualServer>();
  running = false;
  pid = 100;
  /** How many `show info`s after a `reload` still reach the old worker (a slow master). */
  reloadLag = 0;
  /** Called before each command is answered: a test may stop HAProxy at a chosen one. */
  onCommand: (command: string) => void = () => undefined;
  private lag = 0;
  private config = '';

  constructor(
    readonly backend: string,
    private readonly now: () => number,
    private readonly configPath: string,
  ) {}

  /** `haproxy -f FILE`: a new master and worker with the file's servers. */
  start(): void {
    this.running = true;
    this.pid += 10;
    this.load();
  }

  /** SIGKILL: the sockets are gone with it. */
  stop(): void {
    this.running = false;
    this.servers.clear();
  }

  readonly transport: SocketTransport = async (path, command) => {
    this.onCommand(command);
    if (!this.running) throw new RuntimeApiError(`${path}: ${command}: connect ENOENT ${path}`, true);
    this.commands.push(command);
    return this.answer(command);
  };

  /** The servers the way a test reads them: name → address:port and state. */
  table(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, s] of this.servers) out[name] = `${s.address}:${s.port} ${s.maint ? 'maint' : 'ready'}${s.health ? '' : ' no-health'}`;
    return out;
  }

  private load(): void {
    this.config = readFileSync(this.configPath, 'utf8');
    this.servers.clear();
    let inBackend = false;
    for (const line of this.config.split('\n')) {
      if (/^\S/.test(line)) inBackend = line.trim() === `backend ${this.backend}`;
      const m = /^\s+server (\S+) (\S+):(\d+)/.exec(line);
      if (inBackend && m) this.servers.set(m[1]!, { address: m[2]!, port: Number(m[3]), maint: false, health: true, sessions: 0, closeAt: 0 });
    }
  }

  private sessionsOf(s: VirtualServer): number {
    return this.now() < s.closeAt ? s.sessions : 0;
  }

  private server(ref: string): [string, VirtualServer] | string {
    const [be, name] = ref.split('/');
    const s = name === undefined ? undefined : this.servers.get(name);
    if (be !== this.backend || s === undefined) return 'No such server.';
    return [name!, s];
  }

  private answer(command: string): string {
    let m: RegExpExecArray | null;
    if (command === 'reload') {
      // The master re-reads the file; the new worker answers after `reloadLag` looks.
      this.lag = this.reloadLag;
      this.pid += 1;
      this.load();
      return '';
    }
    if (command === 'show info') {
      if (this.lag > 0) {
        this.lag--;
        return `Name: HAProxy\nPid: ${this.pid - 1}\n`;
      }
      return `Name: HAProxy\nPid: ${this.pid}\n`;
    }
    if (command === `show servers state ${this.backend}`) {
      const rows = [...this.servers].map(([name, s], i) => `3 ${this.backend} ${i + 1} ${name} ${s.address} 2 ${s.maint ? 1 : 0} 1 1 0 ${s.port}`);
      return ['1', '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_port', ...rows, ''].join('\n');
    }
    if (command === 'show stat') {
      const rows = [...this.servers].map(([name, s]) => `${this.backend},${name},${this.sessionsOf(s)},${s.maint ? 'MAINT' : 'UP'}`);
      return ['# pxname,svname,scur,status', `${this.backend},BACKEND,0,UP`, ...rows, ''].join('\n');
    }
    if ((m = /^add server (\S+)\/(\S+) (\S+):(\d+) /.exec(command))) {
      if (m[1] !== this.backend) return 'No such backend.';
      if (this.servers.has(m[2]!)) return 'Already exists a server with the same name in backend.';
      this.servers.set(m[2]!, { address: m[3]!, port: Number(m[4]), maint: true, health: false, sessions: 0, closeAt: 0 });
      return 'New server registered.';
    }
    if ((m = /^enable health (\S+)$/.exec(command))) return this.with(m[1]!, (s) => void (s.health = true));
    if ((m = /^enable server (\S+)$/.exec(command))) return this.with(m[1]!, (s) => void (s.maint = false));
    if ((m = /^set server (\S+) state (maint|ready)$/.exec(command))) return this.with(m[1]!, (s) => void (s.maint = m![2] === 'maint'));
    if ((m = /^shutdown sessions server (\S+)$/.exec(command))) return this.with(m[1]!, (s) => void (s.closeAt = 0));
    if ((m = /^del server (\S+)$/.exec(command))) {
      const found = this.server(m[1]!);
      if (typeof found === 'string') return found;
      const [name, s] = found;
      if (!s.maint) return 'Only servers in maintenance mode can be deleted.';
      if (this.sessionsOf(s) > 0) return 'Server still has connections attached to it, cannot remove it.';
      this.servers.delete(name);
      return 'Server deleted.';
    }
    if (command === `enable dynamic-cookie backend ${this.backend}`) return '';
    return 'Unknown command.';
  }

  private with(ref: string, change: (s: VirtualServer) => void): string {
    const found = this.server(ref);
    if (typeof found === 'string') return found;
    change(found[1]);
    return '';
  }
}
