/**
 * `warden health`: what a Docker HEALTHCHECK or a Kubernetes probe asks. A service is healthy
 * when it is up and ready and not crash-looping; the services judged are the named ones, or
 * every normally-up one (no `down` file). Pure: the caller fetches the statuses and prints.
 */
import type { HealthView } from '../protocol/health-file.js';
import { formatProblem } from '../config/config-problem.js';

/** An invalid service's problems in one line: the first in full, how many more. */
export function problemsText(s: HealthView): string {
  const [first, ...more] = s.problems ?? [];
  if (first === undefined) return '';
  return `${formatProblem(first)}${more.length > 0 ? ` (and ${more.length} more problem${more.length > 1 ? 's' : ''})` : ''}`;
}

function exitText(s: HealthView): string {
  if (s.lastExit === null) return '';
  return 'code' in s.lastExit ? `, last exit ${s.lastExit.code}` : `, last killed by ${s.lastExit.signal}`;
}

/** Why `s` is unhealthy, or null when it is healthy. */
export function unhealthyReason(s: HealthView): string | null {
  if (s.crashLoop) return `crash loop (${s.deaths} quick deaths${exitText(s)})`;
  if (s.state === 'up' && s.ready) return null;
  switch (s.state) {
    case 'waiting':
      return 'waiting for its dependencies';
    case 'invalid':
      return `invalid, cannot start: ${problemsText(s)}`;
    case 'starting':
      return 'started, not ready yet';
    case 'down':
      if (s.downReason === 'permanent-failure') return `down for good: its finish exited 125${exitText(s)}`;
      if (s.downReason === 'exited') return `exited, not restarted${exitText(s)}`;
      return s.goal === 'down' ? 'down, wanted down' : `down${exitText(s)}`;
    case 'backoff':
      return `restarting after a death${exitText(s)}`;
    default:
      // spawning, stopping, finishing, and any state a newer warden reports (invalid settings…).
      return `${s.state}${exitText(s)}`;
  }
}

/**
 * One line per unhealthy service (`NAME: why`), empty when all are healthy. `named`: the caller
 * asked for these services, so each counts whether or not it is normally up.
 */
export function healthReport(statuses: readonly HealthView[], named: boolean): string[] {
  const judged = named ? statuses : statuses.filter((s) => s.normallyUp);
  return judged.flatMap((s) => {
    const why = unhealthyReason(s);
    return why === null ? [] : [`${s.name}: ${why}`];
  });
}
