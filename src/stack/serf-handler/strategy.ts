/**
 * How a pass of the handler brings HAProxy in line with the membership: chosen once, when the
 * process starts (`main.js render` or `main.js watch`, and STACK_APPLY), and never re-decided
 * inside a pass.
 */
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import { applyMode, currentPid, reloadSfSettings, startReplacement, type ApplyMode } from './reload-sf.js';

/** The pids of a reload-sf replacement: the process that served before and the one that serves now. */
export interface Replaced {
  readonly oldPid: number | null;
  readonly newPid: number | null;
}

export type Strategy =
  /**
   * The haproxy service's run script, before `exec haproxy`: write the file HAProxy starts with,
   * and what the apply method that follows compares against. Serf may not run yet.
   */
  | { readonly kind: 'render'; readonly then: ApplyMode }
  /**
   * Servers through the runtime API (`add server`, maintenance, `del server`); anything else in
   * the file by a master-worker reload. A removed server may finish its in-flight requests for
   * `drainTimeoutMs` before its sessions are cut.
   */
  | { readonly kind: 'runtime-api'; readonly drainTimeoutMs: number }
  /**
   * The lab's method, for the benchmark: every change is a new `haproxy -sf OLDPID` process with
   * the whole config (reload-sf.ts). `running` is the pid that serves now (null: none).
   */
  | { readonly kind: 'reload-sf'; readonly running: () => number | null; readonly replace: (configPath: string) => Promise<Replaced> };

/** The strategy of `command` (`render` or `watch`) under this environment (STACK_APPLY). */
export function chooseStrategy(
  command: 'render' | 'watch',
  env: Readonly<Record<string, string | undefined>>,
  runDir: string,
  drainTimeoutMs: number,
  api: RuntimeApi,
): Strategy {
  const mode = applyMode(env);
  if (command === 'render') return { kind: 'render', then: mode };
  if (mode === 'runtime-api') return { kind: 'runtime-api', drainTimeoutMs };
  const sf = reloadSfSettings(env, runDir);
  return { kind: 'reload-sf', running: () => currentPid(sf), replace: (configPath) => startReplacement(sf, configPath, api) };
}
