/** What to change in HAProxy's running backend so that it serves exactly the wanted servers (pure). */
import type { Server } from '../haproxy/render.js';
import { ADMIN_FORCED_DRAIN, ADMIN_FORCED_MAINT, type RuntimeServer } from '../haproxy/runtime-state.js';

export type ServerAction =
  /** `add server` (created in maintenance), `enable health`, `enable server`. */
  | { readonly kind: 'add'; readonly server: Server }
  /** It exists at the right address but an operator or a drain left it in maintenance or drain. */
  | { readonly kind: 'enable'; readonly name: string }
  /** Maintenance (no new requests), wait for its in-flight ones, `del server`. */
  | { readonly kind: 'remove'; readonly name: string; readonly reason: 'gone' | 'moved' };

/**
 * The actions, in the order to apply them: servers whose name moved to a new address go first
 * (the name must be free before it is added again), then additions and enables (capacity
 * before removal), then the removals of servers no longer wanted.
 */
export function diffServers(wanted: readonly Server[], running: readonly RuntimeServer[]): ServerAction[] {
  const now = new Map(running.map((s) => [s.name, s]));
  const moved: ServerAction[] = [];
  const added: ServerAction[] = [];
  const enabled: ServerAction[] = [];
  const gone: ServerAction[] = [];
  const wantedNames = new Set<string>();
  for (const server of wanted) {
    wantedNames.add(server.name);
    const current = now.get(server.name);
    if (current === undefined) {
      added.push({ kind: 'add', server });
    } else if (current.address !== server.address || current.port !== server.port) {
      moved.push({ kind: 'remove', name: server.name, reason: 'moved' });
      added.push({ kind: 'add', server });
    } else if ((current.adminState & (ADMIN_FORCED_MAINT | ADMIN_FORCED_DRAIN)) !== 0) {
      enabled.push({ kind: 'enable', name: server.name });
    }
  }
  for (const current of running) {
    if (!wantedNames.has(current.name)) gone.push({ kind: 'remove', name: current.name, reason: 'gone' });
  }
  return [...moved, ...added, ...enabled, ...gone];
}

/** One line per action, for logs. */
export function describeAction(a: ServerAction): string {
  switch (a.kind) {
    case 'add':
      return `add ${a.server.name} ${a.server.address}:${a.server.port}`;
    case 'enable':
      return `enable ${a.name}`;
    case 'remove':
      return `remove ${a.name} (${a.reason})`;
    default: {
      const never: never = a;
      return String(never);
    }
  }
}
