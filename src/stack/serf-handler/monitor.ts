/**
 * The balancer's membership feed: the local agent's log stream (`serf monitor -log-level=debug`)
 * instead of Serf's event handler. Serf's agent coalesces member events before it runs a handler
 * (3 s / 1 s, hard-coded in `serf agent`), so a handler sees a leave at least 1 s after it
 * happened; the log stream shows the same changes as they happen, and shows one that no event
 * carries: a node's *intent* to leave (`messageLeaveType`), gossiped the moment its agent gets
 * SIGINT, when `serf members` already lists it as `leaving`. The lines only say *that* the
 * membership changed; what changed is always read whole from `serf members`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Schedule } from '../../adapters/clock.js';

/** What a log line says happened, or null for the rest of the stream. */
export type MemberChange = 'join' | 'leave-intent' | 'leave' | 'failed' | 'update' | 'reap';

const CHANGES: Record<string, MemberChange> = {
  EventMemberJoin: 'join',
  messageLeaveType: 'leave-intent',
  EventMemberLeave: 'leave',
  EventMemberFailed: 'failed',
  EventMemberUpdate: 'update',
  EventMemberReap: 'reap',
};

/** A line of the agent's log, as `serf monitor` relays it: `2026/11/25 11:25:23 [INFO] …`. */
const LOG_LINE = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[/;

/** `2026/11/25 11:25:23 [DEBUG] serf: messageLeaveType: web-2` → `{ change: 'leave-intent', node: 'web-2' }`. */
export function parseMonitorLine(line: string): { change: MemberChange; node: string } | null {
  const match = /\] serf: (\w+): (\S+)/.exec(line);
  const change = match ? CHANGES[match[1]!] : undefined;
  return change === undefined ? null : { change, node: match![2]! };
}

export interface MonitorOptions {
  readonly rpcAddr: string;
  readonly bin: string;
  /** A member line arrived. */
  readonly onChange: (change: MemberChange, node: string) => void;
  /** The stream (re)connected: whatever happened while it was down is unknown, so resync. */
  readonly onConnect: () => void;
  /** The stream ended (the agent is not up yet, or restarted); it is retried after `retryMs`. */
  readonly onDrop: (reason: string) => void;
  readonly retryMs: number;
  /** The reconnect's timer. */
  readonly schedule: Schedule;
}

/** Follows the agent's log stream for good, reconnecting whenever it ends. Returns a stop function. */
export function followMonitor(opts: MonitorOptions): () => void {
  let stopped = false;
  let child: ReturnType<typeof spawn> | null = null;
  let cancelRetry: (() => void) | null = null;
  const connect = (): void => {
    if (stopped) return;
    const proc = spawn(opts.bin, ['monitor', '-log-level=debug', `-rpc-addr=${opts.rpcAddr}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let connected = false;
    let errText = '';
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errText = (errText + chunk).slice(-500)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      // `serf monitor` writes its own failure ("Error connecting to Serf agent: …") on stdout
      // too: that is the reason of the drop to come, not the stream.
      if (!LOG_LINE.test(line)) {
        errText = (errText + line + '\n').slice(-500);
        return;
      }
      // The agent first replays its recent log: the stream is up once a line of it arrives.
      if (!connected) {
        connected = true;
        opts.onConnect();
      }
      const parsed = parseMonitorLine(line);
      if (parsed) opts.onChange(parsed.change, parsed.node);
    });
    const retry = (reason: string): void => {
      if (child !== proc) return;
      child = null;
      opts.onDrop(reason);
      if (!stopped) cancelRetry = opts.schedule(opts.retryMs, connect);
    };
    proc.on('error', (err) => retry(err.message));
    // 'close', not 'exit': its last words on stdout are read by then.
    proc.on('close', (code, signal) => retry(`serf monitor exited (${code ?? signal ?? '?'}): ${errText.trim() || 'no output'}`));
  };
  connect();
  return () => {
    stopped = true;
    cancelRetry?.();
    const last = child;
    child = null; // its exit is ours, not a drop
    last?.kill('SIGTERM');
  };
}
