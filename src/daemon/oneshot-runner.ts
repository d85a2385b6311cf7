/** Runs an s6-rc oneshot's `up` or `down`: its argv directly, or `execlineb -P FILE` when it needs execline. */
import type { Logger } from '../adapters/logger.js';
import { isSuccess } from '../core/exit-status.js';
import type { OneshotScript, OneshotSpec } from '../config/s6-rc-source.js';
import type { DaemonEdges } from './edges.js';
import { howItEnded, runToEnd } from './run-to-end.js';

export type OneshotOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface OneshotRunnerDeps {
  /** Launches the script, times it out, and gives it warden's environment. */
  readonly edges: Pick<DaemonEdges, 'launcher' | 'schedule' | 'signal' | 'env'>;
  readonly logger: Logger;
  /** The execlineb to run real execline scripts with (`WARDEN_EXECLINEB`, default from PATH). */
  readonly execlineb: string;
  /**
   * The longest a `down` may take. It runs at shutdown, which has one deadline: s6-rc's default
   * `timeout-down` 0 (wait for ever) would let one stuck script hold the container for good.
   */
  readonly downCapMs: number;
}

/** Runs `spec`'s up or down script to its end (or its timeout); never throws. */
export function runOneshot(spec: OneshotSpec, phase: 'up' | 'down', deps: OneshotRunnerDeps): Promise<OneshotOutcome> {
  if (spec.action.kind !== 'script') return Promise.resolve({ ok: false, reason: `${spec.name} is s6-overlay's own oneshot: warden runs it itself` });
  const script = phase === 'up' ? spec.action.up : spec.action.down;
  if (script === null || script.script.kind === 'empty') return Promise.resolve({ ok: true });
  const [file, args] = commandOf(script, deps.execlineb);
  // 0 is s6-rc's "no limit"; a down never waits past the cap.
  const ownMs = (phase === 'up' ? spec.timeoutUpMs : spec.timeoutDownMs) || Infinity;
  const capped = phase === 'down' && deps.downCapMs < ownMs;
  const timeoutMs = capped ? deps.downCapMs : ownMs;
  deps.logger.info({ event: `oneshot-${phase}`, service: spec.name, command: [file, ...args].join(' ') }, `oneshot-${phase}`);
  return runToEnd(deps.edges, { file, args, cwd: spec.dir }, timeoutMs).then((outcome): OneshotOutcome => {
    if (outcome.kind === 'not-started') {
      const hint = script.script.kind === 'execline' ? ` (it needs execline for ${script.script.why}: apt-get install execline)` : '';
      return { ok: false, reason: `${outcome.error}${hint}` };
    }
    if (isSuccess(outcome.status)) return { ok: true };
    const how = outcome.timedOut ? `timed out after ${timeoutMs} ms (timeout-${phase}${capped ? ', capped by the services grace time' : ''})` : howItEnded(outcome.status);
    return { ok: false, reason: `${script.file} ${how}` };
  });
}

function commandOf(script: OneshotScript, execlineb: string): [string, string[]] {
  if (script.script.kind === 'argv') {
    const [file, ...args] = script.script.argv;
    return [file!, args];
  }
  // What s6-rc-compile makes of an up file: `#!execlineb -P` followed by its contents.
  return [execlineb, ['-P', script.file]];
}
