/**
 * ServiceLogs with real processes: a million lines through small rotating files (none lost,
 * none torn, in order), a follower across rotations, and a quiet service next to two floods.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ServiceLogs, type ServiceLogsOptions } from '../../src/adapters/service-logs.js';
import { LogFollower } from '../../src/cli/log-reader.js';

let dir: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-logs-it-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function run(script: string): ChildProcess {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

function runNode(code: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve())));
}

function logs(extra: Partial<ServiceLogsOptions> = {}): { logs: ServiceLogs; errors: unknown[] } {
  const errors: unknown[] = [];
  const l = new ServiceLogs({ dir, console: 'none', defaultMaxBytes: 1 << 20, defaultKeep: 100, ...extra }, (s, e) => errors.push([s, e]));
  return { logs: l, errors };
}

/** Every file of a service, oldest first (archives by name, then current). */
async function filesOf(service: string): Promise<string[]> {
  const names = (await readdir(join(dir, service))).filter((n) => n.startsWith('@')).sort();
  return [...names, 'current'].map((n) => join(dir, service, n));
}

const RECORD = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z out (\d+)$/;

describe('logs with real processes', () => {
  test('1 000 000 lines through 1 MiB files: every line once, whole, in order', { timeout: 180_000 }, async () => {
    const { logs: l, errors } = logs();
    const child = run('exec seq 1 1000000');
    l.attach('seq', child.stdout!, child.stderr!);
    await exited(child);
    await l.close();
    assert.deepEqual(errors, []);
    const files = await filesOf('seq');
    assert.ok(files.length >= 30, `expected many rotations, got ${files.length} files`);
    let expected = 1;
    for (const f of files) {
      assert.ok((await stat(f)).size <= 1 << 20, `${f} is larger than maxBytes`);
      const text = await readFile(f, 'utf8');
      assert.ok(text.endsWith('\n'), `${f} ends inside a record`);
      for (const line of text.slice(0, -1).split('\n')) {
        const m = RECORD.exec(line);
        if (m === null || Number(m[1]) !== expected) assert.fail(`${f}: expected line ${expected}, got ${JSON.stringify(line.slice(0, 80))}`);
        expected++;
      }
    }
    assert.equal(expected - 1, 1_000_000);
  });

  test('a follower sees every line across rotations', { timeout: 60_000 }, async () => {
    const { logs: l, errors } = logs({ defaultMaxBytes: 64 * 1024, defaultKeep: 50 });
    const total = 20_000;
    const follower = await LogFollower.open(dir, ['tick'], { pollMs: 200 });
    const seen: number[] = [];
    await follower.start((entries) => seen.push(...entries.map((e) => Number(e.line))));
    try {
      // Bursts of 500 lines every 5 ms: about 740 KB, so 11 rotations, some of them between two
      // looks of the follower; keep 50 so that none is pruned before the follower gets to it.
      const child = runNode(
        `let i = 0; const t = setInterval(() => { let s = ''; for (let k = 0; k < 500 && i < ${total}; k++) s += ++i + '\\n'; process.stdout.write(s); if (i >= ${total}) clearInterval(t); }, 5);`,
      );
      l.attach('tick', child.stdout!, child.stderr!);
      await exited(child);
      await l.close();
      const end = Date.now() + 20_000;
      while (seen.length < total && Date.now() < end) await sleep(20);
    } finally {
      await follower.close();
    }
    assert.deepEqual(errors, []);
    const archives = (await readdir(join(dir, 'tick'))).filter((n) => n.startsWith('@'));
    assert.ok(archives.length >= 3, `expected at least 3 rotations, got ${archives.length}`);
    assert.equal(seen.length, total);
    seen.forEach((n, i) => {
      if (n !== i + 1) assert.fail(`line ${i + 1}: follower saw ${n}`);
    });
  });

  test('a quiet service keeps its pace next to two floods', { timeout: 60_000 }, async () => {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const { logs: l, errors } = logs({ console: 'prefix', consoleStream: sink, defaultMaxBytes: 1 << 20, defaultKeep: 3 });
    const flood1 = run(`exec yes 'flood one ${'x'.repeat(80)}'`);
    const flood2 = run(`exec yes 'flood two ${'y'.repeat(80)}'`);
    l.attach('flood1', flood1.stdout!, flood1.stderr!);
    l.attach('flood2', flood2.stdout!, flood2.stderr!);
    await sleep(300);
    const ticks = 300;
    // Each line carries when the ticker wrote it, to compare with when the log took it.
    const ticker = runNode(`let i = 0; const t = setInterval(() => { console.log(++i, Date.now()); if (i >= ${ticks}) clearInterval(t); }, 10);`);
    l.attach('ticker', ticker.stdout!, ticker.stderr!);
    await exited(ticker);
    flood1.kill('SIGKILL');
    flood2.kill('SIGKILL');
    await Promise.all([exited(flood1), exited(flood2)]);
    await l.close();
    assert.deepEqual(errors, []);
    const text = (await Promise.all((await filesOf('ticker')).map((f) => readFile(f, 'utf8')))).join('');
    const records = text
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [n, wrote] = line.slice(29).split(' ').map(Number);
        return { logged: Date.parse(line.slice(0, 24)), n: n!, wrote: wrote! };
      });
    assert.deepEqual(
      records.map((r) => r.n),
      Array.from({ length: ticks }, (_, i) => i + 1),
    );
    // Starved behind the floods, the ticker's lines would be taken only when the floods end,
    // after the ticker's last line. Kept at pace, each line is in the log before the ticker is
    // half a run further on, however slow the machine makes both of them.
    const lead = ticks / 2;
    for (let i = 0; i + lead < records.length; i++) {
      const late = records[i]!.logged - records[i + lead]!.wrote;
      assert.ok(late <= 0, `line ${i + 1} was logged ${late} ms after line ${i + 1 + lead} was written`);
    }
    // The floods did flood (and rotate).
    const floodFiles = await readdir(join(dir, 'flood1'));
    assert.ok(floodFiles.length >= 2, 'flood1 rotated at least once');
  });
});
