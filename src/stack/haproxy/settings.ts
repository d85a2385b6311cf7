/** Where the stack's HAProxy listens and keeps its files, from the environment, validated once. */
import { join } from 'node:path';

export interface HaproxySettings {
  /**
   * `bind` of the frontend: `fd@3`, the first socket of the haproxy service's `listen` file,
   * which warden holds across HAProxy's restarts; or an address, e.g. `127.0.0.1:8080`.
   */
  readonly httpBind: string;
  /** `bind` of the stats page: `fd@4`, the `listen` file's second socket, or an address. */
  readonly statsBind: string;
  /** The backend that holds the webapp servers. */
  readonly backend: string;
  /** The webapp port on every backend node. */
  readonly serverPort: number;
  /** Secret for the dynamic SERVERID cookies (stable across reloads and restarts). */
  readonly cookieKey: string;
  readonly checkInterMs: number;
  readonly timeoutConnectMs: number;
  readonly hardStopAfterMs: number;
  /** Directory of the rendered config, sockets, lock and state files. */
  readonly runDir: string;
  /** The runtime API socket (`stats socket … level admin`). */
  readonly adminSocket: string;
  /** The master CLI socket (`haproxy -S`). */
  readonly masterSocket: string;
  /** The config HAProxy runs. */
  readonly configPath: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A setting the stack cannot use: the message names the variable and what was expected. */
export class StackSettingError extends Error {
  override readonly name = 'StackSettingError';
}

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new StackSettingError(`${name}=${raw}: expected a whole number ≥ ${min}`);
  return Number(raw);
}

/** The membership handler's timing (`main.js watch`). */
export interface HandlerTimings {
  /** How long a server out of rotation may keep sessions before they are cut (STACK_DRAIN_TIMEOUT_MS). */
  readonly drainTimeoutMs: number;
  /** A full pass at least this often, whatever the feed says (STACK_RESYNC_MS). */
  readonly resyncMs: number;
}

export function handlerTimings(env: Env): HandlerTimings {
  return { drainTimeoutMs: int(env, 'STACK_DRAIN_TIMEOUT_MS', 5000), resyncMs: int(env, 'STACK_RESYNC_MS', 30_000, 1000) };
}

/** The settings, from `STACK_*` / `HAPROXY_*` variables with the stack's defaults. */
export function haproxySettings(env: Env): HaproxySettings {
  const runDir = env.STACK_RUN_DIR || '/run/stack';
  return {
    httpBind: env.HAPROXY_HTTP_BIND || 'fd@3',
    statsBind: env.HAPROXY_STATS_BIND || 'fd@4',
    backend: env.HAPROXY_BACKEND || 'webapps',
    serverPort: int(env, 'WEBAPP_PORT', 3000, 1),
    cookieKey: env.HAPROXY_COOKIE_KEY || 'warden-stack',
    checkInterMs: int(env, 'HAPROXY_CHECK_INTER_MS', 1000, 100),
    timeoutConnectMs: int(env, 'HAPROXY_TIMEOUT_CONNECT_MS', 1000, 100),
    hardStopAfterMs: int(env, 'HAPROXY_HARD_STOP_AFTER_MS', 10_000, 100),
    runDir,
    adminSocket: env.HAPROXY_ADMIN_SOCKET || join(runDir, 'haproxy-admin.sock'),
    masterSocket: env.HAPROXY_MASTER_SOCKET || join(runDir, 'haproxy-master.sock'),
    configPath: env.HAPROXY_CONFIG || join(runDir, 'haproxy.cfg'),
  };
}
