/** `warden status` as a table for people; `--json` prints the protocol's ServiceStatus as is. */
import type { ServiceStatus } from '../protocol/service-status.js';
import { problemsText } from './health.js';

const COLORS = { green: 32, yellow: 33, red: 31, dim: 2 } as const;
type Color = keyof typeof COLORS;

export function duration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

/** Bytes as ps and pm2 show memory: 812K, 41.3M, 1.2G. */
export function memory(bytes: number | null): string {
  if (bytes === null) return '-';
  const kb = bytes / 1024;
  if (kb < 1024) return `${Math.round(kb)}K`;
  if (kb < 1024 * 1024) return `${(kb / 1024).toFixed(1)}M`;
  return `${(kb / 1024 / 1024).toFixed(1)}G`;
}

function cpu(s: ServiceStatus): string {
  return s.cpuPercent === null || s.cpuPercent === undefined ? '-' : `${s.cpuPercent.toFixed(1)}%`;
}

function stateColor(s: ServiceStatus): Color {
  if (s.crashLoop || s.downReason === 'permanent-failure' || s.state === 'invalid') return 'red';
  if (s.state === 'up') return 'green';
  if (s.state === 'down') return s.goal === 'down' ? 'dim' : 'red';
  return 'yellow';
}

function lastExit(s: ServiceStatus): string {
  if (s.lastExit === null) return '-';
  return 'code' in s.lastExit ? `exit ${s.lastExit.code}` : s.lastExit.signal;
}

function note(s: ServiceStatus, now: number): string {
  const parts: string[] = [];
  if (s.backoffUntil) parts.push(`next start in ${duration(Math.max(0, Date.parse(s.backoffUntil) - now))}`);
  if (s.crashLoop) parts.push(`crash loop (${s.deaths} quick deaths)`);
  if (s.downReason === 'permanent-failure') parts.push('permanent failure (finish exited 125)');
  if (s.state === 'invalid') parts.push(problemsText(s));
  if (s.goal !== 'up' && s.state !== 'down') parts.push(`wanted ${s.goal}`);
  if (s.statusText) parts.push(s.statusText);
  return parts.join('; ');
}

export function formatStatusTable(statuses: readonly ServiceStatus[], color: boolean, now = Date.now()): string {
  const paint = (c: Color, text: string): string => (color ? `\x1b[${COLORS[c]}m${text}\x1b[0m` : text);
  const header = ['SERVICE', 'STATE', 'PID', 'UPTIME', 'MEM', 'CPU', 'READY', 'RESTARTS', 'LAST EXIT', 'NOTE'];
  const rows = statuses.map((s) => [
    s.name,
    s.state,
    s.pid === null ? '-' : String(s.pid),
    duration(s.uptimeMs),
    // A warden from before these fields leaves them out.
    memory(s.rssBytes ?? null),
    cpu(s),
    s.ready ? 'yes' : 'no',
    String(s.restarts),
    lastExit(s),
    note(s, now),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], stateColor?: Color): string =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i]!);
        return i === 1 && stateColor ? paint(stateColor, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map((r, i) => line(r, stateColor(statuses[i]!)))].join('\n') + '\n';
}
