/**
 * Readiness against a real warden as PID 1: NOTIFY_SOCKET (a node sender, and a real
 * `haproxy -Ws` when haproxy is installed), and the `check` probe for readiness and liveness.
 * Every wait is bounded; `warden wait --ready` is the user-visible contract checked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { cli, serviceOf, show, statusOf } from './control-helpers.js';
import { eventually, Sandbox, sq, WARDEN_MAIN, type Warden } from './harness.js';

/** `warden notify`, as a service's script runs it. */
const NOTIFY = `${sq(process.execPath)} ${sq(WARDEN_MAIN)} notify`;
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p)) ?? null;

interface Booted {
  readonly box: Sandbox;
  readonly warden: Warden;
  readonly socket: string;
}

/**
 * Boots warden on the services `write` creates (it gets the sandbox, for marker file paths),
 * with the run dir (notify sockets) and control socket in the sandbox; resolves once the
 * control socket answers.
 */
async function boot(t: TestContext, write: (box: Sandbox) => Promise<void>): Promise<Booted> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await write(box);
  const socket = box.path('control.sock');
  const warden = box.boot({ env: { WARDEN_RUN_DIR: box.path('run') } });
  await eventually(
    'the control socket',
    async () => {
      if (warden.exited) throw new Error(`warden exited during boot; ${warden.tail()}`);
      return statusOf(socket).then((all) => all.length > 0, () => false);
    },
    15_000,
  );
  return { box, warden, socket };
}

const isEvent = (service: string, event: string) => (e: { service?: string; event?: string }) => e.service === service && e.event === event;

test('NOTIFY_SOCKET: starting until READY=1 (sent by a child of run), wait --ready returns only then, STATUS= kept', async (t) => {
  const started = performance.now();
  const { box, warden, socket } = await boot(t, (box) =>
    box.service('api', {
      run: [
        'echo "$NOTIFY_SOCKET" > notify-socket-path',
        `${NOTIFY} 'STATUS=warming up'`,
        'sleep 1.5',
        `${NOTIFY} READY=1 'STATUS=serving 3 backends'`,
        'exec sleep 100000',
      ].join('\n'),
      files: { 'notify-socket': '' },
    }).then(() => undefined),
  );
  const before = await serviceOf(socket, 'api');
  assert.equal(before.state, 'starting', 'not ready before READY=1');
  assert.equal(before.ready, false);

  const waited = await cli(socket, ['wait', '--ready', '--timeout', '15000', 'api']);
  assert.equal(waited.code, 0, show(waited));
  const waitedMs = performance.now() - started;
  assert.ok(waitedMs >= 1500, `wait --ready returned ${Math.round(waitedMs)} ms after boot, before READY=1 was sent`);
  assert.equal(warden.find(isEvent('api', 'ready')).length, 1, warden.tail());

  const after = await serviceOf(socket, 'api');
  assert.deepEqual([after.state, after.ready, after.statusText], ['up', true, 'serving 3 backends']);
  // One socket per service, in WARDEN_RUN_DIR/notify.
  assert.equal((await box.read(box.path('run', 'service', 'api', 'notify-socket-path')))?.trim(), box.path('run', 'notify', 'api.sock'));
});

test('NOTIFY_SOCKET: a restarted service gets a fresh socket and must report READY=1 again', async (t) => {
  const { warden, socket } = await boot(t, (box) =>
    box.service('svc', { run: `${NOTIFY} READY=1\nexec sleep 100000`, files: { 'notify-socket': '' } }).then(() => undefined),
  );
  assert.equal((await cli(socket, ['wait', '--ready', '--timeout', '10000', 'svc'])).code, 0);
  const first = (await serviceOf(socket, 'svc')).pid;
  const restarted = await cli(socket, ['restart', 'svc']);
  assert.equal(restarted.code, 0, show(restarted));
  await warden.waitForEvents(isEvent('svc', 'ready'), 2, 10_000, 'a second ready');
  const now = await serviceOf(socket, 'svc');
  assert.notEqual(now.pid, first);
  assert.equal(now.ready, true);
});

/** Sends an sd_notify message to `notifySocket` as `nobody`, through `warden notify`: another user than the service. */
function notifyAsNobody(notifySocket: string, fields: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', `NOTIFY_SOCKET=${notifySocket}`, process.execPath, WARDEN_MAIN, 'notify', ...fields],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`warden notify as nobody exited ${code}: ${stderr}`))));
  });
}

test("NOTIFY_SOCKET: another user's READY=1 and STATUS= are refused (notify-refused); the service's own child then makes it ready", async (t) => {
  const { box, warden, socket } = await boot(t, (box) =>
    box.service('api', {
      run: [
        'echo "$NOTIFY_SOCKET" > notify-socket-path',
        'while [ ! -e go ]; do sleep 0.05; done',
        `${NOTIFY} READY=1 'STATUS=serving'`,
        'exec sleep 100000',
      ].join('\n'),
      files: { 'notify-socket': '' },
    }).then(() => undefined),
  );
  // As under the default /run/warden (0755): the sandbox (0700) must not be what keeps nobody out.
  await chmod(box.dir, 0o755);
  // run writes in its working dir, its runtime dir.
  const dir = box.path('run', 'service', 'api');
  const path = await eventually('the NOTIFY_SOCKET path', async () => (await box.read(join(dir, 'notify-socket-path')))?.trim(), 15_000);
  await notifyAsNobody(path, ['READY=1', 'STATUS=spoofed']);
  const refused = await warden.waitForEvent(isEvent('api', 'notify-refused'), 15_000, 'notify-refused');
  assert.equal(refused.uid, 65534, warden.tail());
  const spoofed = await serviceOf(socket, 'api');
  assert.deepEqual([spoofed.state, spoofed.ready, spoofed.statusText ?? null], ['starting', false, null], 'a message from nobody changed nothing');
  assert.equal(warden.find(isEvent('api', 'ready')).length, 0);

  await writeFile(join(dir, 'go'), '');
  assert.equal((await cli(socket, ['wait', '--ready', '--timeout', '15000', 'api'])).code, 0, warden.tail());
  const after = await serviceOf(socket, 'api');
  assert.deepEqual([after.state, after.ready, after.statusText], ['up', true, 'serving']);
});

test('NOTIFY_SOCKET: with notify-socket `main`, a child of run is refused and the main process itself is heard', async (t) => {
  const { warden, socket } = await boot(t, (box) =>
    box.service('db', {
      run: [
        `${NOTIFY} READY=1 'STATUS=from a child'`,
        // The run's main process itself (perl exec'd in its place) reports, and stays.
        `exec perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; send($s, "READY=1\nSTATUS=from main", 0, pack_sockaddr_un($ENV{NOTIFY_SOCKET})) or die "send: $!"; sleep 100000'`,
      ].join('\n'),
      files: { 'notify-socket': 'main\n' },
    }).then(() => undefined),
  );
  assert.equal((await cli(socket, ['wait', '--ready', '--timeout', '15000', 'db'])).code, 0, warden.tail());
  const refused = warden.find(isEvent('db', 'notify-refused'));
  assert.equal(refused.length, 1, warden.tail());
  assert.match(String(refused[0]!.msg), /not the main process .*notify-socket says main/);
  assert.equal((await serviceOf(socket, 'db')).statusText, 'from main');
});

test('check: starting until the check passes (a file appears), then ready', async (t) => {
  const { box, warden, socket } = await boot(t, async (box) => {
    await box.service('web', {
      run: 'exec sleep 100000',
      files: { 'check-interval': '200\n' },
      scripts: { check: `test -e ${sq(box.path('web-ok'))}` },
    });
  });
  const early = await cli(socket, ['wait', '--ready', '--timeout', '800', 'web']);
  assert.equal(early.code, 3, `not ready while the check fails: the wait times out (exit 3): ${show(early)}`);
  assert.equal((await serviceOf(socket, 'web')).state, 'starting');

  // The check failed until now (the wait above timed out): ready now means warden kept probing
  // while starting. How soon is the machine's business, not this test's.
  await writeFile(box.path('web-ok'), '');
  const waited = await cli(socket, ['wait', '--ready', '--timeout', '60000', 'web']);
  assert.equal(waited.code, 0, show(waited));
  assert.equal((await serviceOf(socket, 'web')).ready, true);
  assert.equal(warden.find(isEvent('web', 'check-failure')).length, 0, 'failures before ready do not count');
  assert.equal(warden.find(isEvent('web', 'stopping')).length, 0, 'never restarted while starting');
});

test('check: retries failures in a row once up restart the service, logged as check-failed', async (t) => {
  let flag = '';
  const { warden, socket } = await boot(t, async (box) => {
    flag = box.path('healthy');
    await writeFile(flag, '');
    await box.service('db', {
      run: 'exec sleep 100000',
      files: { 'check-interval': '150\n', 'check-retries': '3\n' },
      scripts: { check: `echo "probing db"\ntest -e ${sq(flag)} || { echo "db is not healthy" >&2; exit 4; }` },
    });
  });
  await warden.waitForEvent(isEvent('db', 'ready'), 10_000, 'db ready through its check');
  const firstPid = (await serviceOf(socket, 'db')).pid;

  await rm(flag);
  const failed = await warden.waitForEvent(isEvent('db', 'check-failed'), 10_000, 'check-failed');
  assert.equal(failed.code, 4);
  assert.equal(failed.failures, 3);
  assert.match(String(failed.output), /db is not healthy/);
  assert.equal(warden.find(isEvent('db', 'check-failure')).length, 2, 'two warnings before the third failure restarts it');
  await warden.waitForEvent((e) => isEvent('db', 'stopping')(e) && e.pid === firstPid, 5000, 'the down signal to the old process');

  // Healthy again: the new process becomes ready through its check, counted as a restart.
  await writeFile(flag, '');
  await warden.waitForEvents(isEvent('db', 'ready'), 2, 10_000, 'ready again after the restart');
  const after = await serviceOf(socket, 'db');
  assert.notEqual(after.pid, firstPid);
  assert.equal(after.restarts, 1);
});

test('check: a run over check-timeout is killed with its process group and counts as a failure', async (t) => {
  let mode = '';
  const { warden } = await boot(t, async (box) => {
    mode = box.path('mode');
    await writeFile(mode, 'fast');
    await box.service('slow', {
      run: 'exec sleep 100000',
      files: { 'check-interval': '100\n', 'check-timeout': '300\n', 'check-retries': '1\n' },
      // The hang is a child of the check: killing only the check would leave it running.
      scripts: { check: `[ "$(cat ${sq(mode)})" = fast ] || sleep 100` },
    });
  });
  await warden.waitForEvent(isEvent('slow', 'ready'), 10_000, 'ready');
  await writeFile(mode, 'hang');
  const failed = await warden.waitForEvent(isEvent('slow', 'check-failed'), 10_000, 'check-failed by timeout');
  assert.equal(failed.timedOut, true);
  // Not before its timeout, and long before the hung `sleep 100` would have ended by itself.
  assert.ok(Number(failed.afterMs) >= 290 && Number(failed.afterMs) < 100_000, `killed after ${String(failed.afterMs)} ms`);
  await writeFile(mode, 'fast');
  await warden.waitForEvents(isEvent('slow', 'ready'), 2, 10_000, 'ready again');
  const sleeps = (await warden.processes()).filter((p) => p.comm === 'sleep').length;
  assert.equal(sleeps, 1, "only the service's own sleep runs: the probe's sleep 100 died with its group");
});

test('HAProxy -Ws becomes ready through NOTIFY_SOCKET', { skip: HAPROXY === null ? 'haproxy is not installed (scripts/install-stack-deps.sh)' : false }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const cfg = box.path('haproxy.cfg');
  await writeFile(
    cfg,
    [
      'global',
      '  log stderr format raw local0',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 5s',
      '  timeout server 5s',
      'frontend fe',
      `  bind unix@${box.path('fe.sock')}`,
      '  http-request return status 200 content-type text/plain string ok',
      '',
    ].join('\n'),
  );
  await box.service('haproxy', { run: `exec ${sq(HAPROXY!)} -Ws -f ${sq(cfg)}`, files: { 'notify-socket': '' } });
  const warden = box.boot({ env: { WARDEN_RUN_DIR: box.path('run') } });
  const socket = box.path('control.sock');
  await eventually('the control socket', () => statusOf(socket).then(() => true, () => false), 15_000);
  const waited = await cli(socket, ['wait', '--ready', '--timeout', '15000', 'haproxy']);
  assert.equal(waited.code, 0, `${show(waited)}\n${warden.tail()}`);
  assert.equal(warden.find(isEvent('haproxy', 'ready')).length, 1);
  const s = await serviceOf(socket, 'haproxy');
  assert.deepEqual([s.state, s.ready], ['up', true]);

  // Stopping: haproxy's master says STOPPING=1 before it goes.
  assert.equal((await cli(socket, ['down', 'haproxy'])).code, 0);
  await warden.waitForEvent(isEvent('haproxy', 'exited'), 10_000, 'haproxy exited');
  t.diagnostic(`haproxy STOPPING=1 seen: ${warden.find(isEvent('haproxy', 'notify-stopping')).length > 0}`);
});
