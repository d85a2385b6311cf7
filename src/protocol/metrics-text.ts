/**
 * The Prometheus text exposition (format 0.0.4) of warden's services and of warden itself.
 * Hand-written rather than prom-client: it is ~100 lines, and prom-client costs PID 1 ~9 MB of
 * RSS and ~0.25 s to load (measured, see docs/metrics.md) for gauges warden reads at scrape time.
 */
import type { ServiceStatus } from './service-status.js';
import { signalNumber } from './signal-name.js';

export interface ServiceSample {
  readonly status: ServiceStatus;
  readonly logLines: { readonly written: number; readonly dropped: number };
}

export interface WardenSample {
  readonly rssBytes: number;
  readonly openFds: number | null;
  /** Event-loop delay since the last scrape, in seconds: its 99th percentile and its maximum. */
  readonly loopLagP99: number;
  readonly loopLagMax: number;
}

type Kind = 'gauge' | 'counter';

interface Family {
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly value: (s: ServiceSample) => number;
}

const SERVICE_FAMILIES: readonly Family[] = [
  { name: 'warden_service_up', kind: 'gauge', help: 'Whether the service has a running process (1) or not (0).', value: (s) => (s.status.pid !== null ? 1 : 0) },
  { name: 'warden_service_ready', kind: 'gauge', help: 'Whether the service is up and ready (1) or not (0).', value: (s) => (s.status.ready ? 1 : 0) },
  { name: 'warden_service_restarts_total', kind: 'counter', help: 'Restarts of the service since warden started it.', value: (s) => s.status.restarts },
  {
    name: 'warden_service_last_exit_code',
    kind: 'gauge',
    help: 'How the last run ended: its exit code, 128+signal when killed; -1 when it has not ended yet.',
    value: (s) => exitCode(s.status.lastExit),
  },
  { name: 'warden_service_uptime_seconds', kind: 'gauge', help: 'Seconds the current run has been running; 0 when none runs.', value: (s) => (s.status.uptimeMs ?? 0) / 1000 },
  { name: 'warden_service_crash_loop', kind: 'gauge', help: 'Whether the service is in a crash loop (1) or not (0).', value: (s) => (s.status.crashLoop ? 1 : 0) },
  { name: 'warden_service_log_lines_total', kind: 'counter', help: 'Lines the service wrote to stdout and stderr.', value: (s) => s.logLines.written },
  { name: 'warden_service_log_lines_dropped_total', kind: 'counter', help: 'Lines of the service lost because its log file could not be written.', value: (s) => s.logLines.dropped },
];

function exitCode(last: ServiceStatus['lastExit']): number {
  if (last === null) return -1;
  if ('code' in last) return last.code;
  return 128 + (signalNumber(last.signal) ?? 0);
}

/** A label value escaped as the format says: backslash, double quote and newline. */
function label(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function header(name: string, kind: Kind, help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${kind}\n`;
}

/** The whole /metrics page. */
export function renderMetrics(services: readonly ServiceSample[], warden: WardenSample): string {
  let out = '';
  for (const f of SERVICE_FAMILIES) {
    out += header(f.name, f.kind, f.help);
    for (const s of services) out += `${f.name}{service="${label(s.status.name)}"} ${f.value(s)}\n`;
  }
  out += header('warden_resident_memory_bytes', 'gauge', "warden's own resident set size.");
  out += `warden_resident_memory_bytes ${warden.rssBytes}\n`;
  if (warden.openFds !== null) {
    out += header('warden_open_fds', 'gauge', 'File descriptors warden has open.');
    out += `warden_open_fds ${warden.openFds}\n`;
  }
  out += header('warden_event_loop_lag_seconds', 'gauge', "99th percentile of warden's event-loop delay since the last scrape.");
  out += `warden_event_loop_lag_seconds ${warden.loopLagP99}\n`;
  out += header('warden_event_loop_lag_max_seconds', 'gauge', "Longest event-loop delay of warden since the last scrape.");
  out += `warden_event_loop_lag_max_seconds ${warden.loopLagMax}\n`;
  return out;
}
