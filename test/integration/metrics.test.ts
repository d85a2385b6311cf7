/**
 * Prometheus metrics (`WARDEN_METRICS_ADDR`) of warden as PID 1, scraped with a real HTTP client
 * (fetch) and parsed as the text format: a steady service and a real crash loop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serviceOf, startWarden } from './control-helpers.js';
import { eventually, freePort } from './harness.js';


interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The text format, strictly: every sample's family declared by a TYPE line before it. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\w+) (gauge|counter)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    assert.ok(types.has(m[1]!), `${m[1]} has no TYPE line before it`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    const value = Number(m[3]);
    assert.ok(!Number.isNaN(value), `not a number: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

function valueOf(samples: readonly Sample[], name: string, service?: string): number {
  const found = samples.find((s) => s.name === name && (service === undefined || s.labels.service === service));
  assert.ok(found, `no ${name}${service ? ` for ${service}` : ''}`);
  return found.value;
}

test('metrics: /metrics in the text format, with a crash loop, a steady service and warden itself', async (t) => {
  const port = await freePort();
  const running = await startWarden(
    t,
    {
      steady: { run: 'echo one; echo two; echo three\nexec sleep 100000' },
      crashy: { run: 'echo dying >&2\nexit 3', files: { 'restart-delay': '0 0' } },
    },
    (all) => all.find((s) => s.name === 'steady')?.state === 'up' && all.some((s) => s.name === 'crashy' && s.crashLoop),
    { WARDEN_METRICS_ADDR: `127.0.0.1:${port}` },
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  // The three lines of steady are counted once they reached warden's log.
  const { samples, types, response } = await eventually('a scrape with steady\'s three lines', async () => {
    const response = await fetch(url);
    const parsed = parse(await response.text());
    return valueOf(parsed.samples, 'warden_service_log_lines_total', 'steady') >= 3 ? { ...parsed, response } : null;
  }, 15_000);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(types.get('warden_service_restarts_total'), 'counter');
  assert.equal(types.get('warden_service_up'), 'gauge');

  assert.equal(valueOf(samples, 'warden_service_up', 'steady'), 1);
  assert.equal(valueOf(samples, 'warden_service_ready', 'steady'), 1);
  assert.equal(valueOf(samples, 'warden_service_crash_loop', 'steady'), 0);
  assert.equal(valueOf(samples, 'warden_service_restarts_total', 'steady'), 0);
  assert.equal(valueOf(samples, 'warden_service_last_exit_code', 'steady'), -1);
  assert.ok(valueOf(samples, 'warden_service_uptime_seconds', 'steady') > 0);
  assert.equal(valueOf(samples, 'warden_service_log_lines_total', 'steady'), 3);
  assert.equal(valueOf(samples, 'warden_service_log_lines_dropped_total', 'steady'), 0);

  const crashy = await serviceOf(running.socket, 'crashy');
  assert.equal(valueOf(samples, 'warden_service_crash_loop', 'crashy'), 1);
  assert.equal(valueOf(samples, 'warden_service_last_exit_code', 'crashy'), 3);
  // The scrape came before this status: restarts only grew in between.
  const restarts = valueOf(samples, 'warden_service_restarts_total', 'crashy');
  assert.ok(restarts >= 4 && restarts <= crashy.restarts, `restarts ${restarts}, status says ${crashy.restarts}`);
  assert.ok(valueOf(samples, 'warden_service_log_lines_total', 'crashy') >= 5);

  // warden itself: its RSS in bytes as /proc says (within what it may grow between the reads), its fds.
  const rss = valueOf(samples, 'warden_resident_memory_bytes');
  assert.ok(rss > 10e6 && rss < 1e9, `rss ${rss}`);
  assert.ok(valueOf(samples, 'warden_open_fds') > 3);
  assert.ok(valueOf(samples, 'warden_event_loop_lag_seconds') >= 0);
  assert.ok(valueOf(samples, 'warden_event_loop_lag_max_seconds') >= valueOf(samples, 'warden_event_loop_lag_seconds'));

  const other = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(other.status, 404);
  await other.text();
});

test('metrics: a bad address is logged and warden runs its services without metrics', async (t) => {
  const running = await startWarden(t, { steady: { run: 'exec sleep 100000' } }, undefined, { WARDEN_METRICS_ADDR: 'localhost' });
  const bad = await running.warden.waitForEvent((e) => e.event === 'metrics-unavailable', 15_000);
  assert.match(String(bad.msg), /WARDEN_METRICS_ADDR="localhost": expected HOST:PORT/);
  assert.equal((await serviceOf(running.socket, 'steady')).state, 'up');
});
