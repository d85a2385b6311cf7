import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderMetrics, type ServiceSample } from '../../../src/protocol/metrics-text.js';
import { upStatus } from '../cli/status-fixture.js';

const METRICS_MD = fileURLToPath(new URL('../../../../docs/metrics.md', import.meta.url));

const WARDEN = { rssBytes: 50_000_000, openFds: 12, loopLagP99: 0.002, loopLagMax: 0.01 };

const sample = (over: Parameters<typeof upStatus>[0], logLines = { written: 0, dropped: 0 }): ServiceSample => ({ status: upStatus(over), logLines });

/** Each metric of the page with its type, from its `# TYPE` lines. */
function typesOf(page: string): Map<string, string> {
  return new Map([...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The metrics docs/metrics.md's tables list, with their type. */
function documented(): Map<string, string> {
  const doc = readFileSync(METRICS_MD, 'utf8');
  return new Map([...doc.matchAll(/^\| `(warden_[a-z_]+)` \| (gauge|counter) \|/gm)].map((m) => [m[1]!, m[2]!]));
}

test('docs/metrics.md lists every metric of the page with its type, and only those', () => {
  const page = renderMetrics([sample({ name: 'web' })], WARDEN);
  assert.deepEqual([...typesOf(page)].sort(), [...documented()].sort());
});

test('each service is one labelled line per metric; a killed run is 128 + its signal, none yet is -1', () => {
  const page = renderMetrics(
    [
      sample({ name: 'web', restarts: 2, uptimeMs: 1500, lastExit: { signal: 'SIGKILL' } }, { written: 7, dropped: 1 }),
      sample({ name: 'db', state: 'backoff', pid: null, ready: false, uptimeMs: null, crashLoop: true, lastExit: { code: 3 } }),
      sample({ name: 'new' }),
    ],
    WARDEN,
  );
  const value = (metric: string, service: string): string | undefined =>
    page.split('\n').find((l) => l.startsWith(`${metric}{service="${service}"} `))?.split(' ')[1];
  assert.equal(value('warden_service_last_exit_code', 'web'), '137');
  assert.equal(value('warden_service_last_exit_code', 'db'), '3');
  assert.equal(value('warden_service_last_exit_code', 'new'), '-1');
  assert.deepEqual(['up', 'ready', 'crash_loop'].map((m) => value(`warden_service_${m}`, 'db')), ['0', '0', '1']);
  assert.equal(value('warden_service_uptime_seconds', 'web'), '1.5');
  assert.equal(value('warden_service_restarts_total', 'web'), '2');
  assert.deepEqual([value('warden_service_log_lines_total', 'web'), value('warden_service_log_lines_dropped_total', 'web')], ['7', '1']);
  assert.match(page, /^warden_resident_memory_bytes 50000000$/m);
});

test('a label value escapes backslash, double quote and newline; no open fds leaves that metric out', () => {
  const page = renderMetrics([sample({ name: 'a"b\\c\nd' })], { ...WARDEN, openFds: null });
  assert.match(page, /^warden_service_up\{service="a\\"b\\\\c\\nd"\} 1$/m);
  assert.equal(typesOf(page).has('warden_open_fds'), false);
});
