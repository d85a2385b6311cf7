/**
 * One line of a service's output as JSON: what warden writes to the container's stdout with
 * `WARDEN_CONSOLE_FORMAT=json` and what `warden logs --json` prints. A stable format: one object per
 * line, `{"time","service","stream","line"}`, and `"continued":true` on the pieces of a line
 * too long to keep whole (the line goes on in the next entry of that service and stream).
 */
export interface LogEntry {
  readonly time: string;
  readonly service: string;
  readonly stream: 'out' | 'err';
  readonly continued: boolean;
  readonly line: string;
}

/** `entry` as its JSON line, newline included. */
export function logEntryLine(entry: LogEntry): string {
  const { time, service, stream, line } = entry;
  return `${JSON.stringify(entry.continued ? { time, service, stream, line, continued: true } : { time, service, stream, line })}\n`;
}
