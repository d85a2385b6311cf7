/**
 * The Serf handler's watch loop in virtual time: the feed is the test's, each pass takes the
 * virtual time the test gives it and succeeds or fails as the test says; the lock is the real
 * one (coalesce.ts) in a temporary run dir. Bursts, retries, resyncs, drain polls and the stop
 * are asserted at their exact virtual milliseconds. (The loop on a real agent and HAProxy:
 * test/integration/stack-reconcile.test.ts and the cluster tests.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { coalesceFiles, runCoalesced } from '../../../src/stack/serf-handler/coalesce.js';
import { ReconcileError, type ReconcileOutcome } from '../../../src/stack/serf-handler/reconcile.js';
import { startWatch, type Feed, type Watch } from '../../../src/stack/serf-handler/watch-loop.js';
import { VirtualTime } from '../virtual-time.js';

const runDirs: string[] = [];
after(() => {
  for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
});

const applied = (draining: string[] = []): ReconcileOutcome => ({ kind: 'applied', servers: ['web-1'], actions: [], draining, failed: 0 });

/** What a pass does: fail (a ReconcileError at `members`), or end with this outcome. */
type Result = 'fail' | ReconcileOutcome;

class Handler extends VirtualTime {
  /** The virtual time each pass began. */
  readonly passes: number[] = [];
  /** What the next passes do, in order; then every pass applies with nothing to do. */
  readonly results: Result[] = [];
  /** Every pass: fail. */
  failing = false;
  /** How long a pass takes, in virtual ms. */
  takesMs = 0;
  /** What `drainingSince` says. */
  drainingSince: number | null = null;
  readonly logs: { level: string; fields: Record<string, unknown> }[] = [];
  readonly files = coalesceFiles(mkdtempSync(join(tmpdir(), 'watch-loop-')));
  following = true;
  readonly feed: Feed;
  readonly loop: Watch;

  constructor(timings = { resyncMs: 30_000, drainTimeoutMs: 1000 }) {
    super();
    runDirs.push(join(this.files.lock, '..'));
    const log = (level: string) => (fields: object) => void this.logs.push({ level, fields: fields as Record<string, unknown> });
    let feed: Feed | null = null;
    this.loop = startWatch(
      {
        reconciler: { pass: () => this.pass(), drainingSince: () => this.drainingSince },
        coalesced: (pass) => runCoalesced(this.files, pass),
        follow: (f) => {
          feed = f;
          return () => void (this.following = false);
        },
        clock: { now: () => this.now },
        schedule: this.schedule,
        log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      },
      timings,
    );
    this.feed = feed!;
  }

  private async pass(): Promise<ReconcileOutcome> {
    this.passes.push(this.now);
    await new Promise<void>((resolve) => this.schedule(this.takesMs, resolve));
    const result = this.results.shift() ?? (this.failing ? 'fail' : applied());
    if (result === 'fail') throw new ReconcileError('members', 'serf members: connection refused');
    return result;
  }

  /** The log lines whose `event` is `event`. */
  logged(event: string): Record<string, unknown>[] {
    return this.logs.filter((l) => l.fields.event === event).map((l) => l.fields);
  }
}

test('a burst of member events during a pass makes exactly one more pass, which names them all', async () => {
  const h = new Handler();
  h.takesMs = 200;
  h.feed.onConnect();
  await h.advance(50);
  h.feed.onChange('join', 'web-2');
  h.feed.onChange('join', 'web-3');
  h.feed.onChange('leave-intent', 'web-4');
  h.feed.onChange('leave', 'web-4');
  h.feed.onChange('failed', 'web-5');
  await h.advance(10_000);
  assert.deepEqual(h.passes, [0, 200], 'the first pass, then one for the whole burst');
  const reconciled = h.logged('reconciled');
  assert.deepEqual(reconciled.map((l) => l.changes), [['resync'], ['join web-2', 'join web-3', 'leave-intent web-4', 'leave web-4', 'failed web-5']]);
  assert.equal(reconciled[1]!.ms, 350, 'from the first line of the burst to the end of its pass');
});

test('a failed pass is tried again after 500, 1000, 2000 ms; a success resets the backoff, and the feed keeps making passes', async () => {
  const h = new Handler();
  h.results.push('fail', 'fail', 'fail');
  h.feed.onConnect();
  await h.advance(4000);
  assert.deepEqual(h.passes, [0, 500, 1500, 3500]);
  const failed = h.logged('members-failed');
  assert.deepEqual(failed.map((l) => l.retryInMs), [500, 1000, 2000]);
  assert.deepEqual(failed.map((l) => l.changes), [['resync'], ['retry'], ['retry']]);
  assert.equal(h.logged('reconciled').length, 1, 'the fourth pass applied');

  h.results.push('fail');
  h.feed.onChange('join', 'web-2');
  await h.advance(499);
  assert.deepEqual(h.passes.slice(4), [4000], 'a member event after a success: a pass at once');
  await h.advance(1);
  assert.deepEqual(h.passes.slice(4), [4000, 4500], 'its failure is retried from 500 ms again');
  assert.equal(h.logged('members-failed').at(-1)!.retryInMs, 500);
});

test('the retry backoff stops growing at the resync period', async () => {
  const h = new Handler({ resyncMs: 2000, drainTimeoutMs: 1000 });
  h.failing = true;
  h.feed.onConnect();
  await h.advance(6000);
  assert.deepEqual(h.logged('members-failed').slice(0, 5).map((l) => l.retryInMs), [500, 1000, 2000, 2000, 2000]);
  // Retries at 500, 1500, 3500, 5500; resyncs at 2000, 4000, 6000.
  assert.deepEqual(h.passes, [0, 500, 1500, 2000, 3500, 4000, 5500, 6000]);
});

test('with no member event, a pass comes every STACK_RESYNC_MS', async () => {
  const h = new Handler();
  await h.advance(29_999);
  assert.deepEqual(h.passes, []);
  await h.advance(1);
  assert.deepEqual(h.passes, [30_000]);
  await h.advance(30_000);
  assert.deepEqual(h.passes, [30_000, 60_000]);
  assert.deepEqual(h.logged('reconciled').map((l) => l.changes), [['resync'], ['resync']]);
});

test('servers left draining are looked at every 250 ms until none drains, or the drain timeout and its grace are past', async () => {
  const h = new Handler();
  h.drainingSince = 0;
  h.results.push(applied(['web-2']), applied(['web-2']), applied(['web-2']));
  h.feed.onChange('leave', 'web-2');
  await h.advance(5000);
  assert.deepEqual(h.passes, [0, 250, 500, 750], 'the fourth pass found nothing draining');

  // A server that never drains: looks until 1000 + 5000 ms after its drain began.
  const stuck = new Handler();
  stuck.drainingSince = 0;
  for (let i = 0; i < 100; i++) stuck.results.push(applied(['web-3']));
  stuck.feed.onChange('leave', 'web-3');
  await stuck.advance(20_000);
  assert.equal(stuck.passes.filter((at) => at <= 6250).length, 26);
  assert.equal(stuck.passes.at(-1), 6250, 'no look after the grace (until the resync)');
});

test('while another process holds the lock, the pass waits for it, looking every 100 ms', async () => {
  const h = new Handler();
  // A live pid holds it: the haproxy service's render at HAProxy's start.
  writeFileSync(h.files.lock, String(process.pid));
  h.feed.onChange('join', 'web-2');
  await h.advance(250);
  assert.deepEqual(h.passes, []);
  rmSync(h.files.lock);
  await h.advance(1000);
  assert.deepEqual(h.passes, [300]);
});

test('stop: the feed is left, the pass under way finishes, and no timer or pass comes after', async () => {
  const h = new Handler();
  h.takesMs = 200;
  h.results.push('fail');
  h.feed.onConnect();
  await h.advance(100);
  let stopped = false;
  const stopping = h.loop.stop().then(() => (stopped = true));
  assert.equal(h.following, false);
  await h.advance(99);
  assert.equal(stopped, false, 'the pass under way is waited for');
  await h.advance(1);
  await stopping;
  assert.equal(h.logged('members-failed').length, 1);
  assert.equal(h.pending, 0, 'its failure arms no retry once stopped; no resync either');
  h.feed.onChange('join', 'web-2');
  await h.advance(100_000);
  assert.deepEqual(h.passes, [0]);
});
