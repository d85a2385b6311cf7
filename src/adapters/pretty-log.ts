/** A pino JSON line as people read it: `12:00:01.234 WARN  web exited code=1 ranMs=40`. */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'name', 'msg', 'service', 'event', 'hostname']);

export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[Number(record.level)] ?? String(record.level);
  const who = typeof record.service === 'string' ? `${record.service} ` : '';
  const event = String(record.event ?? '');
  const msg = record.msg !== undefined && record.msg !== event ? ` ${String(record.msg)}` : '';
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return `${time} ${level} ${who}${event}${msg}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}
