/**
 * Every control command of the CLI against a real warden running as PID 1 (in its own PID
 * namespace), each test with its own WARDEN_SOCKET in its own temp dir: exit codes, output,
 * and what the services really do. Plus the socket's defences: mode, peer credentials, garbage.
 *
 * Timing is asserted only as generous upper bounds; speed belongs to bench/control-status.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceStatus } from '../../src/protocol/service-status.js';
import { MAX_REQUEST_BYTES } from '../../src/protocol/commands.js';
import {
  cli,
  type CliResult,
  errorCode,
  inSandbox,
  LONG_RUN,
  pidsOf,
  rawExchange,
  serviceOf,
  show,
  startWarden,
  statusOf,
} from './control-helpers.js';
import { eventually, REPO_ROOT, Sandbox, sq, WARDEN_MAIN } from './harness.js';

const NOBODY = { name: 'nobody', group: 'nogroup' } as const;

/** The documented fields of `status --json` and the type each must have. */
function assertStatusShape(s: unknown): asserts s is ServiceStatus {
  assert.equal(typeof s, 'object');
  assert.notEqual(s, null);
  const o = s as Record<string, unknown>;
  const nullable = (field: string, type: 'number' | 'string'): void =>
    assert.ok(o[field] === null || typeof o[field] === type, `${field} is ${type} | null in ${JSON.stringify(o)}`);
  assert.deepEqual(
    Object.keys(o).sort(),
    [
      'backoffUntil',
      'cpuMs',
      'cpuPercent',
      'crashLoop',
      'deaths',
      'downReason',
      'goal',
      'lastExit',
      'name',
      'normallyUp',
      'pid',
      'problems',
      'processes',
      'ready',
      'readySince',
      'restarts',
      'rssBytes',
      'state',
      'statusText',
      'upDownSince',
      'uptimeMs',
    ],
    'exactly the documented fields',
  );
  assert.equal(typeof o.name, 'string');
  assert.ok(['waiting', 'invalid', 'down', 'spawning', 'starting', 'up', 'stopping', 'finishing', 'backoff'].includes(o.state as string), `state ${String(o.state)}`);
  assert.ok(['up', 'down', 'once'].includes(o.goal as string), `goal ${String(o.goal)}`);
  nullable('pid', 'number');
  nullable('uptimeMs', 'number');
  nullable('upDownSince', 'string');
  nullable('readySince', 'string');
  assert.equal(typeof o.normallyUp, 'boolean');
  assert.equal(typeof o.ready, 'boolean');
  assert.ok(Number.isInteger(o.restarts), 'restarts is a whole number');
  const last = o.lastExit;
  assert.ok(
    last === null ||
      (typeof last === 'object' &&
        ((Object.keys(last).join() === 'code' && typeof (last as { code: unknown }).code === 'number') ||
          (Object.keys(last).join() === 'signal' && typeof (last as { signal: unknown }).signal === 'string'))),
    `lastExit ${JSON.stringify(last)}`,
  );
  nullable('backoffUntil', 'string');
  if (typeof o.backoffUntil === 'string') assert.ok(!Number.isNaN(Date.parse(o.backoffUntil)), 'backoffUntil is ISO 8601');
  assert.ok(Number.isInteger(o.deaths), 'deaths is a whole number');
  assert.equal(typeof o.crashLoop, 'boolean');
  nullable('downReason', 'string');
  nullable('statusText', 'string');
  assert.ok(Array.isArray(o.problems), 'problems is an array');
  for (const field of ['rssBytes', 'cpuMs', 'cpuPercent', 'processes']) nullable(field, 'number');
}

function parseStatuses(stdout: string): ServiceStatus[] {
  const parsed: unknown = JSON.parse(stdout);
  assert.ok(Array.isArray(parsed), 'status --json prints an array');
  for (const s of parsed) assertStatusShape(s);
  return parsed as ServiceStatus[];
}

test('status --json: every service with the documented fields; a named one; an unknown one exits 1 listing the known', { timeout: 40_000 }, async (t) => {
  const { socket } = await startWarden(t, {
    web: { run: LONG_RUN },
    db: { run: LONG_RUN },
    idle: { run: LONG_RUN, files: { down: '' } },
  });

  const all = await cli(socket, ['status', '--json']);
  assert.equal(all.code, 0, show(all));
  const statuses = parseStatuses(all.stdout);
  assert.deepEqual(statuses.map((s) => s.name), ['db', 'idle', 'web'], 'sorted by name');
  const web = statuses.find((s) => s.name === 'web')!;
  assert.equal(web.state, 'up');
  assert.equal(web.goal, 'up');
  assert.ok(typeof web.pid === 'number' && web.pid > 1, `web has a pid: ${web.pid}`);
  assert.ok(web.uptimeMs !== null && web.uptimeMs >= 0);
  assert.equal(web.ready, true);
  const idle = statuses.find((s) => s.name === 'idle')!;
  assert.deepEqual([idle.state, idle.goal, idle.pid, idle.uptimeMs, idle.ready, idle.downReason], ['down', 'down', null, null, false, 'wanted']);

  // Not a terminal (docker exec): still the table for people, JSON only with --json, no colours.
  const piped = await cli(socket, ['status']);
  assert.equal(piped.code, 0, show(piped));
  assert.match(piped.stdout, /^SERVICE\s+STATE\s+PID/);
  assert.deepEqual(piped.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['db', 'idle', 'web']);
  assert.ok(!piped.stdout.includes('\x1b['), 'no colour codes without a terminal');

  const one = await cli(socket, ['status', 'web', '--json']);
  assert.equal(one.code, 0, show(one));
  assert.deepEqual(parseStatuses(one.stdout).map((s) => s.name), ['web']);

  const unknown = await cli(socket, ['status', 'wbe']);
  assert.equal(unknown.code, 2, `an unknown service exits 2: ${show(unknown)}`);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /wbe/, 'names the unknown service');
  assert.match(unknown.stderr, /known services: db, idle, web/, 'lists the known ones');
  assert.equal(unknown.stderr.trim().split('\n').length, 1, 'one line');
});

test('status on a terminal prints a coloured table', { timeout: 40_000, skip: !existsSync('/usr/bin/script') && 'no script(1) for a pseudo-TTY' }, async (t) => {
  const { socket } = await startWarden(t, { web: { run: LONG_RUN } });
  const pid = (await serviceOf(socket, 'web')).pid;
  // script(1) gives the CLI a pseudo-TTY for stdout.
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('script', ['-qec', `${sq(process.execPath)} ${sq(WARDEN_MAIN)} status`, '/dev/null'], {
      env: { ...process.env, WARDEN_SOCKET: socket, TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`script exited ${String(code)}: ${text}`));
    });
  });
  assert.match(out, /SERVICE\s+STATE\s+PID\s+UPTIME\s+MEM\s+CPU\s+READY\s+RESTARTS\s+LAST EXIT/, out);
  assert.match(out, new RegExp(`web\\s+\\x1b\\[32mup\\s*\\x1b\\[0m\\s+${String(pid)}\\s`), 'web up in green with its pid');
});

test('down then wait --down; up then wait --up: exit 0 and status follows', { timeout: 40_000 }, async (t) => {
  const { socket } = await startWarden(t, { web: { run: LONG_RUN }, db: { run: LONG_RUN } });
  const before = await pidsOf(socket);

  const down = await cli(socket, ['down', 'web']);
  assert.equal(down.code, 0, show(down));
  assert.match(down.stdout, /^web: /);
  const waitDown = await cli(socket, ['wait', '--down', '--timeout', '10000', 'web']);
  assert.equal(waitDown.code, 0, show(waitDown));
  const web = await serviceOf(socket, 'web');
  assert.deepEqual([web.state, web.goal, web.pid, web.downReason], ['down', 'down', null, 'wanted']);
  assert.equal((await serviceOf(socket, 'db')).pid, before.db, 'db untouched');

  const up = await cli(socket, ['up', 'web']);
  assert.equal(up.code, 0, show(up));
  const waitUp = await cli(socket, ['wait', '--up', '--timeout', '10000', 'web']);
  assert.equal(waitUp.code, 0, show(waitUp));
  const again = await serviceOf(socket, 'web');
  assert.equal(again.state, 'up');
  assert.ok(again.pid !== null && again.pid !== before.web, `a new process: ${again.pid} after ${before.web}`);

  // wait with no condition means --up; already true, it answers at once.
  const waitDefault = await cli(socket, ['wait', 'web', 'db']);
  assert.equal(waitDefault.code, 0, show(waitDefault));
});

test('wait --ready waits for the notification fd; wait --timeout on what never happens gives up with exit 3', { timeout: 40_000 }, async (t) => {
  const { socket, box } = await startWarden(
    t,
    {
      // Ready (a newline on fd 3) only once the test creates the go file.
      slow: { run: `while [ ! -e ${inSandbox('go')} ]; do sleep 0.05; done; echo >&3; ${LONG_RUN}`, files: { 'notification-fd': '3' } },
      web: { run: LONG_RUN },
    },
    (all) => all.every((s) => s.state === 'up' || s.state === 'starting'),
  );
  const slow = await serviceOf(socket, 'slow');
  assert.deepEqual([slow.state, slow.ready], ['starting', false]);

  const up = await cli(socket, ['wait', '--up', '--timeout', '5000', 'slow']);
  assert.equal(up.code, 0, `running counts as up: ${show(up)}`);

  const notYet = await cli(socket, ['wait', '--ready', '--timeout', '300', 'slow']);
  assert.equal(notYet.code, 3, `a wait that times out exits 3: ${show(notYet)}`);
  assert.match(notYet.stderr, /not ready after 300 ms: slow/);

  const waiting = cli(socket, ['wait', '--ready', '--timeout', '15000', 'slow', 'web']);
  await sleep(300);
  await writeFile(box.path('go'), '');
  const ready = await waiting;
  assert.equal(ready.code, 0, show(ready));
  const after = await serviceOf(socket, 'slow');
  assert.deepEqual([after.state, after.ready, after.pid], ['up', true, slow.pid], 'same process, now ready');

  const never = await cli(socket, ['wait', '--down', '--timeout', '300', 'web']);
  assert.equal(never.code, 3, show(never));
  assert.match(never.stderr, /not down after 300 ms: web/);
  assert.equal((await serviceOf(socket, 'web')).state, 'up', 'a timed-out wait changes nothing');
});

test('restart gives a new pid; the others keep theirs', { timeout: 40_000 }, async (t) => {
  const { socket } = await startWarden(t, { web: { run: LONG_RUN }, db: { run: LONG_RUN } });
  const before = await pidsOf(socket);
  const r = await cli(socket, ['restart', 'web']);
  assert.equal(r.code, 0, show(r));
  const after = await eventually(
    'web running again with a new pid',
    async () => {
      const s = await serviceOf(socket, 'web');
      return s.state === 'up' && s.pid !== before.web ? s : false;
    },
    10_000,
  );
  assert.equal(after.restarts, 1);
  assert.equal((await serviceOf(socket, 'db')).pid, before.db);
});

test('once starts a service that is not restarted after it exits', { timeout: 40_000 }, async (t) => {
  const { socket, box } = await startWarden(t, {
    job: { run: `echo start >> ${inSandbox('starts')}; sleep 0.3; exit 3`, files: { down: '' } },
  });
  assert.equal(await box.read('starts'), null, 'down at boot: not started');
  const once = await cli(socket, ['once', 'job']);
  assert.equal(once.code, 0, show(once));
  const waitDown = await cli(socket, ['wait', '--down', '--timeout', '10000', 'job']);
  assert.equal(waitDown.code, 0, show(waitDown));
  await sleep(1000); // A restart would be due at once: give it time to (wrongly) happen.
  assert.equal(await box.read('starts'), 'start\n', 'ran exactly once');
  const job = await serviceOf(socket, 'job');
  assert.equal(job.state, 'down');
  assert.equal(job.pid, null);
  assert.deepEqual(job.lastExit, { code: 3 });
});

test('signal HUP reaches the service; an unknown signal exits 1 with a clear message', { timeout: 40_000 }, async (t) => {
  const { socket, box } = await startWarden(t, {
    hup: { run: `trap 'echo hup >> ${inSandbox('hups')}' HUP; while :; do sleep 0.05; done` },
  });
  const pid = (await serviceOf(socket, 'hup')).pid;
  const r = await cli(socket, ['signal', 'HUP', 'hup']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'sent HUP to hup\n', 'a signal sent is confirmed');
  await eventually('the service to write its HUP file', async () => (await box.read('hups')) === 'hup\n', 5000);
  const after = await serviceOf(socket, 'hup');
  assert.deepEqual([after.state, after.pid], ['up', pid], 'trapped, so still the same process');

  const bad = await cli(socket, ['signal', 'NOPE', 'hup']);
  assert.equal(bad.code, 1, show(bad));
  assert.match(bad.stderr, /unknown signal NOPE/);
  assert.equal((await serviceOf(socket, 'hup')).pid, pid);

  const unknown = await cli(socket, ['signal', 'HUP', 'ghost']);
  assert.equal(unknown.code, 2, show(unknown));
  assert.match(unknown.stderr, /no service named ghost; known services: hup/);
});

test('halt --code 7: services are stopped, then warden exits 7', { timeout: 40_000 }, async (t) => {
  const { socket, warden, box } = await startWarden(t, {
    web: { run: `trap 'echo stopped > ${inSandbox('stopped')}; exit 0' TERM; while :; do sleep 0.05; done` },
  });
  const r = await cli(socket, ['halt', '--code', '7']);
  assert.equal(r.code, 0, show(r));
  const exit = await warden.waitForExit(20_000);
  assert.equal(exit.code, 7, warden.tail());
  assert.equal(await box.read('stopped'), 'stopped\n', 'the service got its down signal');
  const events = warden.events;
  const exitedAt = events.findIndex((e) => e.event === 'exited' && e.service === 'web');
  const exitAt = events.findIndex((e) => e.event === 'exit');
  assert.ok(exitedAt >= 0 && exitAt > exitedAt, 'the service exited before warden did');
  assert.equal(events[exitAt]!.code, 7);

  const gone = await cli(socket, ['status']);
  assert.equal(gone.code, 111, `no supervisor after halt: ${show(gone)}`);
});

/**
 * reload over the raw socket right after the change: its reply is exact, because the dir
 * watcher acts only after its settle time (hundreds of ms), and rescans run one at a time.
 */
async function reloadNow(socket: string): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
  const { replies } = await rawExchange(socket, '{"v":1,"id":"r","cmd":"reload"}\n', { timeoutMs: 15_000 });
  const reply = replies[0] as { ok?: boolean; result?: { added: string[]; removed: string[]; changed: string[] } } | undefined;
  assert.ok(reply?.ok === true && reply.result, `reload failed: ${JSON.stringify(replies)}`);
  return reply.result;
}

test('reload: an added dir starts, a removed one stops and leaves status, a changed one alone restarts', { timeout: 60_000 }, async (t) => {
  const { socket, box, warden } = await startWarden(t, {
    a: { run: LONG_RUN },
    b: { run: LONG_RUN },
    c: { run: LONG_RUN },
  });
  const before = await pidsOf(socket);

  await box.service('d', { run: LONG_RUN });
  assert.deepEqual(await reloadNow(socket), { added: ['d'], removed: [], changed: [] });
  const d = await eventually('d up', async () => {
    const s = (await statusOf(socket)).find((x) => x.name === 'd');
    return s?.state === 'up' ? s : false;
  }, 10_000);

  const cHost = await warden.hostPidOf(before.c!);
  await rm(box.path('services.d', 'c'), { recursive: true });
  assert.deepEqual(await reloadNow(socket), { added: [], removed: ['c'], changed: [] });
  assert.deepEqual((await statusOf(socket)).map((s) => s.name), ['a', 'b', 'd'], 'c is gone from status as soon as reload answers');
  await eventually('c\'s process to be gone', async () => !(await warden.processes()).some((p) => p.hostPid === cHost), 5000);
  const cStatus = await cli(socket, ['status', 'c']);
  assert.equal(cStatus.code, 2, show(cStatus));

  await appendFile(box.path('services.d', 'b', 'run'), '# edited\n');
  assert.deepEqual(await reloadNow(socket), { added: [], removed: [], changed: ['b'] });
  const b = await eventually('b up again', async () => {
    const s = await serviceOf(socket, 'b');
    return s.state === 'up' && s.pid !== before.b ? s : false;
  }, 10_000);
  assert.notEqual(b.pid, before.b);
  const now = await pidsOf(socket);
  assert.equal(now.a, before.a, 'a keeps its pid');
  assert.equal(now.d, d.pid, 'd keeps its pid');

  // The CLI: the dir watcher may apply a change before the CLI's request lands, so the reply
  // may be empty; either way the change is in force once `warden reload` returns.
  await box.service('e', { run: LONG_RUN });
  const viaCli = await cli(socket, ['reload']);
  assert.equal(viaCli.code, 0, show(viaCli));
  assert.ok(['added: e\n', 'reloaded: no change\n'].includes(viaCli.stdout), show(viaCli));
  assert.ok((await statusOf(socket)).some((s) => s.name === 'e'), 'e is supervised when reload returns');

  await sleep(600); // Past the watcher's settle time: nothing is pending any more.
  const settled = await pidsOf(socket);
  const nothing = await cli(socket, ['reload']);
  assert.equal(nothing.code, 0, show(nothing));
  assert.equal(nothing.stdout, 'reloaded: no change\n', 'nothing changed, and it says so');
  assert.deepEqual(await pidsOf(socket), settled, 'and nothing restarted');
});

test('SIGHUP to warden rescans like reload', { timeout: 60_000 }, async (t) => {
  const { socket, box, warden } = await startWarden(t, { a: { run: LONG_RUN }, b: { run: LONG_RUN }, c: { run: LONG_RUN } });
  const before = await pidsOf(socket);
  await box.service('e', { run: LONG_RUN });
  await rm(box.path('services.d', 'c'), { recursive: true });
  await appendFile(box.path('services.d', 'a', 'run'), '# edited\n');
  await warden.signal('SIGHUP');
  const after = await eventually(
    'e up, c gone, a restarted',
    async () => {
      const all = await statusOf(socket);
      const by = new Map(all.map((s) => [s.name, s]));
      const ok =
        all.map((s) => s.name).join() === 'a,b,e' &&
        by.get('e')!.state === 'up' &&
        by.get('a')!.state === 'up' &&
        by.get('a')!.pid !== before.a;
      return ok ? by : false;
    },
    15_000,
  );
  assert.equal(after.get('b')!.pid, before.b, 'b keeps its pid');
  const hup = warden.find((e) => e.event === 'signal' && e.signal === 'SIGHUP');
  assert.equal(hup.length, 1, 'warden logged the SIGHUP');
  // The dir watcher would apply it too, but only after the files settle: the SIGHUP came first.
  const changes = warden.find((e) => e.event === 'services-changed');
  assert.equal(changes.length, 2, `boot, then one rescan: ${JSON.stringify(changes)}`);
  const applied = changes[1]!;
  assert.deepEqual([applied.cause, applied.added, applied.removed, applied.changed], ['SIGHUP', 'e', 'c', 'a'], JSON.stringify(applied));
  assert.equal(warden.exited, false);
});

test('a services dir below a path named data (or log) is still watched: a new dir there starts by itself', { timeout: 40_000 }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const services = box.path('data', 'services.d');
  await box.script(join(services, 'a', 'run'), LONG_RUN);
  const socket = box.path('control.sock');
  const warden = box.boot({ argv: ['boot', '--services', services, '--cont-init', box.contInitDir, '--cont-finish', box.contFinishDir], env: { WARDEN_SOCKET: socket } });
  await eventually('a up', async () => (await statusOf(socket).catch(() => [])).some((s) => s.name === 'a' && s.state === 'up'), 15_000);
  await box.script(join(services, 'b', 'run'), LONG_RUN);
  await eventually(
    'the watcher to start b with no reload',
    async () => (await statusOf(socket)).some((s) => s.name === 'b' && s.state === 'up'),
    10_000,
  ).catch((err: Error) => assert.fail(`${err.message}; ${warden.tail(10)}`));
});

test('no supervisor: exit 111 and the message names the socket tried', { timeout: 300_000 }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const missing = box.path('nowhere', 'control.sock');
  for (const args of [['status'], ['up', 'x'], ['wait', 'x'], ['halt'], ['reload']]) {
    const r = await cli(missing, args);
    assert.equal(r.code, 111, `${args.join(' ')}: ${show(r)}`);
    assert.ok(r.stderr.includes(missing), `names ${missing}: ${r.stderr}`);
    assert.match(r.stderr, /no warden is running/);
  }
  // A stale socket file whose listener died without removing it: the same answer.
  const stale = box.path('stale.sock');
  const script = `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`;
  await new Promise<void>((resolve) => spawn(process.execPath, ['-e', script], { stdio: 'ignore' }).once('close', () => resolve()));
  assert.ok((await stat(stale)).isSocket(), 'the stale socket is there');
  const r = await cli(stale, ['status']);
  assert.equal(r.code, 111, show(r));
  assert.ok(r.stderr.includes(stale), r.stderr);
});

test('the socket is mode 0600; a non-root user is refused with permission denied (exit 111)', { timeout: 40_000 }, async (t) => {
  const { socket, warden } = await startWarden(t, { web: { run: LONG_RUN } });
  const st = await stat(socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600, `mode ${(st.mode & 0o777).toString(8)}`);
  assert.equal(st.uid, 0, 'owned by root, who runs warden');

  const refused = await cli(socket, ['status'], { user: NOBODY });
  assert.equal(refused.code, 111, show(refused));
  assert.match(refused.stderr, /permission denied/);
  assert.ok(refused.stderr.includes(socket), refused.stderr);

  // With the file mode opened up, SO_PEERCRED still keeps nobody out.
  await chmod(socket, 0o666);
  const byCreds = await cli(socket, ['down', 'web'], { user: NOBODY });
  assert.equal(byCreds.code, 111, show(byCreds));
  assert.match(byCreds.stderr, /only root or the owner/);
  const web = await serviceOf(socket, 'web');
  assert.deepEqual([web.state, web.goal], ['up', 'up'], 'the refused request did nothing');
  assert.equal(warden.exited, false);
});

test('garbage on the socket gets an error reply or a close; warden and its services carry on', { timeout: 40_000 }, async (t) => {
  const { socket, warden } = await startWarden(t, { web: { run: LONG_RUN }, db: { run: LONG_RUN } });
  const before = await pidsOf(socket);

  const notJson = await rawExchange(socket, 'hello there\n');
  assert.equal(errorCode(notJson.replies[0]), 'bad-request', JSON.stringify(notJson));

  const big = await rawExchange(socket, 'x'.repeat(100 * 1024), { lines: 2, timeoutMs: 5000 });
  assert.equal(errorCode(big.replies[0]), 'too-large', JSON.stringify(big.replies).slice(0, 300));
  assert.ok(JSON.stringify(big.replies[0]).includes(String(MAX_REQUEST_BYTES)), 'says the limit');
  assert.equal(big.replies.length, 1, 'one reply only');
  assert.equal(big.closed, true, 'then closed');

  const unknownCmd = await rawExchange(socket, '{"v":1,"id":5,"cmd":"explode"}\n');
  assert.deepEqual(
    [errorCode(unknownCmd.replies[0]), (unknownCmd.replies[0] as { id: unknown }).id],
    ['unknown-command', 5],
  );

  const wrongVersion = await rawExchange(socket, '{"v":99,"id":"w","cmd":"status"}\n');
  assert.equal(errorCode(wrongVersion.replies[0]), 'unsupported-version');

  const junk = await rawExchange(socket, Buffer.concat([randomBytes(4096).map((b) => (b === 10 ? 0 : b)), Buffer.from('\n')]));
  assert.ok(
    errorCode(junk.replies[0]) === 'bad-request' || (junk.replies.length === 0 && junk.closed),
    `binary junk: ${JSON.stringify(junk).slice(0, 300)}`,
  );

  // Several lines on one connection: each answered, in order, the good one too.
  const mixed = await rawExchange(socket, 'nope\n{"v":1,"id":2,"cmd":"status","services":["web"]}\n[]\n', { lines: 3 });
  assert.deepEqual(
    mixed.replies.map((r) => errorCode(r) ?? (r as { id: unknown }).id),
    ['bad-request', 2, 'bad-request'],
  );

  // A client that sends half a line and hangs up, and one that connects and leaves.
  await rawExchange(socket, '{"v":1,"cmd":"sta', { timeoutMs: 200 });
  await rawExchange(socket, '', { timeoutMs: 100 });

  const status = await cli(socket, ['status', '--json']);
  assert.equal(status.code, 0, show(status));
  const after = Object.fromEntries(parseStatuses(status.stdout).map((s) => [s.name, s.pid]));
  assert.deepEqual(after, before, 'every service keeps its pid');
  assert.equal(warden.exited, false);
  assert.equal(warden.find((e) => e.event === 'uncaught-exception').length, 0, 'nothing thrown in warden');
});

// Hang guards only: eleven yargs CLIs on a loaded machine take what they take.
test('--help of every command exits 0 and shows an example', { timeout: 600_000 }, async () => {
  const socket = '/nonexistent/warden-help.sock';
  const commands = ['status', 'up', 'down', 'restart', 'once', 'signal', 'wait', 'halt', 'reload', 'check', 'boot'];
  // One at a time: eleven at once make each wait for the others' CPU.
  const results: CliResult[] = [];
  for (const cmd of commands) results.push(await cli(socket, [cmd, '--help']));
  commands.forEach((cmd, i) => {
    const r = results[i]!;
    assert.equal(r.code, 0, `${cmd}: ${show(r)}`);
    assert.match(r.stdout, /Examples:/, `${cmd} has examples`);
    assert.match(r.stdout, new RegExp(`^\\s+warden ${cmd}\\b`, 'm'), `${cmd}: an example runs warden ${cmd}`);
  });
});

test('wrong usage exits 100 without reaching the supervisor', { timeout: 30_000 }, async () => {
  const socket = '/nonexistent/warden-usage.sock';
  const cases = [['up'], ['signal', 'HUP'], ['wait', '--up', '--down', 'x'], ['frobnicate'], [], ['status', '--bogus']];
  const results = await Promise.all(cases.map((args) => cli(socket, args)));
  cases.forEach((args, i) => {
    const r = results[i]!;
    assert.equal(r.code, 100, `warden ${args.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, /^warden: [^\n]+\n$/, `one line, no help: ${show(r)}`);
  });
  const typo = await cli(socket, ['statsu']);
  assert.equal(typo.code, 100, show(typo));
  assert.equal(typo.stderr, 'warden: unknown command "statsu" (did you mean status?); warden --help lists the commands\n');
  const help = await cli(socket, ['--help']);
  assert.equal(help.code, 0, show(help));
  assert.match(help.stdout, /Exit codes:\n\s+0\s+done[\s\S]*\n\s+2\s+no service of that name[\s\S]*\n\s+3\s+wait: /, 'the exit codes are listed');
});

test('a number flag that is not a whole number in range is wrong usage (100), never a default', { timeout: 30_000 }, async () => {
  const socket = '/nonexistent/warden-numbers.sock';
  const cases = [
    ['halt', '--code', 'abc'],
    ['halt', '--code', '300'],
    ['halt', '--code', '-1'],
    ['halt', '--code', '1.5'],
    ['wait', '--timeout', 'abc', 'web'],
    ['wait', '--timeout', '-5', 'web'],
  ];
  const results = await Promise.all(cases.map((args) => cli(socket, args)));
  cases.forEach((args, i) => {
    const r = results[i]!;
    assert.equal(r.code, 100, `warden ${args.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, /must be a whole number/);
  });
});

test('a null code or timeout on the socket is refused, not taken as the default', { timeout: 40_000 }, async (t) => {
  const { socket, warden } = await startWarden(t, { web: { run: LONG_RUN } });
  const wait = await rawExchange(socket, '{"v":1,"cmd":"wait","condition":"down","timeoutMs":null,"services":["web"]}\n', { timeoutMs: 3000 });
  assert.equal(errorCode(wait.replies[0]), 'bad-request', `a null timeout must not mean "wait for ever": ${JSON.stringify(wait)}`);
  const halt = await rawExchange(socket, '{"v":1,"cmd":"halt","code":null}\n', { timeoutMs: 3000 });
  assert.equal(errorCode(halt.replies[0]), 'bad-request', `a null code must not halt with 0: ${JSON.stringify(halt)}`);
  await sleep(300);
  assert.equal(warden.exited, false, 'still running');
  assert.equal((await serviceOf(socket, 'web')).state, 'up');
});

test('status on a terminal is coloured, but never with NO_COLOR', { timeout: 60_000 }, async (t) => {
  const { socket } = await startWarden(t, { web: { run: LONG_RUN } });
  // script(1) gives the CLI a terminal of its own, as a person's shell would.
  const onTerminal = (noColor: boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== 'NO_COLOR') env[key] = value;
      env.WARDEN_SOCKET = socket;
      if (noColor) env.NO_COLOR = '1';
      const child = spawn('script', ['-qfec', `${sq(process.execPath)} ${sq(WARDEN_MAIN)} status`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.once('error', reject);
      child.once('close', () => resolve(out));
    });
  const colored = await onTerminal(false);
  assert.match(colored, /SERVICE/);
  assert.ok(colored.includes('\x1b[32mup'), `up in green on a terminal: ${JSON.stringify(colored)}`);
  const plain = await onTerminal(true);
  assert.match(plain, /SERVICE/);
  assert.ok(!plain.includes('\x1b['), `NO_COLOR: no colour codes: ${JSON.stringify(plain)}`);
});

/**
 * The plain forms through the CLI entry `main` of a dir that holds only it and its fast path's
 * bundle (services web, up, and spare, down): they work; what is not a plain form goes to yargs'
 * command line (commands.js), which is not there and cannot be loaded.
 */
async function plainFormsAlone(socket: string, main: string): Promise<void> {
  const json = await cli(socket, ['status', '--json'], { main });
  assert.equal(json.code, 0, show(json));
  assert.deepEqual(parseStatuses(json.stdout).map((s) => [s.name, s.state]), [['spare', 'down'], ['web', 'up']]);
  const table = await cli(socket, ['status'], { main });
  assert.equal(table.code, 0, show(table));
  assert.match(table.stdout, /^SERVICE\s+STATE/);
  const health = await cli(socket, ['health', 'spare'], { main });
  assert.deepEqual([health.code, health.stdout], [1, 'spare: down, wanted down\n'], show(health));
  const up = await cli(socket, ['up', 'spare'], { main });
  assert.equal(up.code, 0, show(up));
  assert.match(up.stdout, /^spare: /);
  const unknown = await cli(socket, ['status', 'nope'], { main });
  assert.equal(unknown.code, 2, show(unknown));
  const help = await cli(socket, ['status', '--help'], { main });
  assert.notEqual(help.code, 0, show(help));
  assert.match(help.stderr, /Cannot find module .*commands\.js/, show(help));
}

test('status, health and up run from the fast path alone: no yargs, no pino, no command modules on disk', { timeout: 60_000 }, async (t) => {
  const { box, socket } = await startWarden(t, { web: { run: LONG_RUN }, spare: { run: LONG_RUN, files: { down: '' } } });
  // The CLI's entry and the fast path's bundle, where no node_modules can be found.
  const lone = box.path('lone-cli');
  await mkdir(lone);
  for (const file of ['main.js', 'run-warden.js', 'pid1-v8-flags.js', 'fast-path.bundle.js']) await copyFile(join(REPO_ROOT, 'dist/src/cli', file), join(lone, file));
  await writeFile(join(lone, 'package.json'), '{"type":"module"}\n');
  const main = join(lone, 'main.js');
  await plainFormsAlone(socket, main);
});

test("npm's warden (warden.cjs) runs status, health and up from the CommonJS bundle alone: no ES module of warden's on disk", { timeout: 60_000 }, async (t) => {
  const { box, socket } = await startWarden(t, { web: { run: LONG_RUN }, spare: { run: LONG_RUN, files: { down: '' } } });
  const lone = box.path('lone-cjs');
  await mkdir(lone);
  for (const file of ['warden.cjs', 'fast-path.bundle.cjs']) await copyFile(join(REPO_ROOT, 'dist/src/cli', file), join(lone, file));
  const main = join(lone, 'warden.cjs');
  await plainFormsAlone(socket, main);
  // The same replies as main.js (the ES module entry) gives, from the whole build.
  const whole = join(REPO_ROOT, 'dist/src/cli/warden.cjs');
  // What moves between two calls (uptime, usage) is left out.
  const still = (r: CliResult) => [r.code, r.stdout.replace(/"(uptimeMs|upDownSince|readySince|cpuMs|cpuPercent|rssBytes)": ("[^"]*"|[\d.]+)/g, '"$1"'), r.stderr];
  for (const args of [['status', '--json', 'web'], ['health', 'web'], ['status', '--bogus']]) {
    const [a, b] = [await cli(socket, args, { main: whole }), await cli(socket, args)];
    assert.deepEqual(still(a), still(b), `${args.join(' ')}\n${show(a)}\n${show(b)}`);
  }
});

test("status: each running service's memory and CPU, of its whole process tree, as /proc has them", { timeout: 60_000 }, async (t) => {
  const { socket, warden } = await startWarden(t, {
    // Burns some CPU (its own time, counted in its process), then sleeps with a child beside it.
    busy: { run: 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done\nsleep 100000 &\nexec sleep 100000' },
    idle: { run: LONG_RUN, files: { down: '' } },
  });
  // Its pids are the PID namespace's: read them in warden's own /proc.
  const proc = `/proc/${await warden.hostPid()}/root/proc`;
  const comm = (p: number): string => readFileSync(`${proc}/${p}/comm`, 'utf8').trim();
  const pid = await eventually(
    "busy's loop to be over: its shell has exec'd sleep",
    async () => {
      const s = await serviceOf(socket, 'busy');
      return s.pid !== null && comm(s.pid) === 'sleep' ? s.pid : null;
    },
    30_000,
  );
  const kids = readFileSync(`${proc}/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').map(Number);
  assert.equal(kids.length, 1);
  const [busy, idle] = parseStatuses((await cli(socket, ['status', '--json'])).stdout);
  assert.equal(busy!.name, 'busy');
  assert.equal(busy!.processes, 2);
  const rssKb = (p: number): number => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`${proc}/${p}/status`, 'utf8'))![1]);
  assert.equal(busy!.rssBytes, [pid, ...kids].reduce((sum, p) => sum + rssKb(p), 0) * 1024, 'sleeping processes: the same VmRSS now');
  // utime + stime + cutime + cstime, in 10 ms ticks: the loop's time, in the shell that exec'd sleep.
  const ticks = (p: number): number => readFileSync(`${proc}/${p}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
  const cpuMs = [pid, ...kids].reduce((sum, p) => sum + ticks(p), 0) * 10;
  assert.ok(cpuMs > 0, 'the loop took some CPU time');
  assert.equal(busy!.cpuMs, cpuMs);
  // Asleep since: the next status's window saw no CPU time.
  const again = (await statusOf(socket, ['busy']))[0]!;
  assert.equal(again.cpuPercent, 0);
  assert.equal(again.cpuMs, cpuMs);
  assert.deepEqual([idle!.rssBytes, idle!.cpuMs, idle!.cpuPercent, idle!.processes], [null, null, null, null], 'no process: no usage');
  const table = await cli(socket, ['status']);
  assert.match(table.stdout, /^SERVICE\s+STATE\s+PID\s+UPTIME\s+MEM\s+CPU\s/);
  assert.match(table.stdout, /\nbusy\s+up\s+\d+\s+\S+\s+\d+(\.\d)?[KM]\s+\d+\.\d%\s/, show(table));
});
