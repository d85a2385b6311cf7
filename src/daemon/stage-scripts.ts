/** cont-init.d and cont-finish.d: every executable file of the dirs, in name order, one at a time. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../adapters/logger.js';
import { isSuccess, type ExitStatus } from '../core/exit-status.js';
import type { DaemonEdges } from './edges.js';
import { howItEnded, runToEnd } from './run-to-end.js';

export interface ScriptFailure {
  readonly script: string;
  readonly status: ExitStatus | null;
  readonly reason: string;
}

/** The scripts of `dirs` in run order: sorted by file name across dirs, as s6-overlay does. */
export async function listScripts(dirs: readonly string[]): Promise<string[]> {
  const found: { name: string; path: string }[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // An absent stage dir simply has nothing to run.
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => null);
      if (info?.isFile()) found.push({ name, path });
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => f.path);
}

export interface RunScriptsOptions {
  /** Launches each script, times it out, and gives it warden's environment. */
  readonly edges: Pick<DaemonEdges, 'launcher' | 'schedule' | 'signal' | 'env'>;
  readonly logger: Logger;
  readonly stage: 'cont-init' | 'cont-finish';
  /** Each script is killed after this long (0 = no limit). */
  readonly timeoutMs: number;
  /** Stop at the first failure (cont-init) or run them all (cont-finish). */
  readonly stopOnFailure: boolean;
}

/** Runs the scripts in order; returns the failures (at most one when `stopOnFailure`). */
export async function runScripts(scripts: readonly string[], opts: RunScriptsOptions): Promise<ScriptFailure[]> {
  const failures: ScriptFailure[] = [];
  for (const script of scripts) {
    const failure = await runOne(script, opts);
    if (failure === null) continue;
    opts.logger.error({ event: `${opts.stage}-failed`, script, reason: failure.reason }, `${opts.stage}-failed`);
    failures.push(failure);
    if (opts.stopOnFailure) break;
  }
  return failures;
}

function runOne(script: string, opts: RunScriptsOptions): Promise<ScriptFailure | null> {
  opts.logger.info({ event: `${opts.stage}-script`, script }, `${opts.stage}-script`);
  return runToEnd(opts.edges, { file: script }, opts.timeoutMs || Infinity).then((outcome) => {
    if (outcome.kind === 'not-started') return { script, status: null, reason: outcome.error };
    if (isSuccess(outcome.status)) return null;
    return { script, status: outcome.status, reason: outcome.timedOut ? `timed out after ${opts.timeoutMs} ms` : `${script} ${howItEnded(outcome.status)}` };
  });
}
