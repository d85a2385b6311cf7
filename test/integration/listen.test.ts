/**
 * Sockets held by warden (`listen`), against warden as PID 1: the service gets them as fds 3 …
 * with systemd's LISTEN_* variables, and a service killed with SIGKILL over and over refuses no
 * connection, since the socket outlives each run. Bad lines and a port in use are reported by
 * file and line, and do not stop the other services.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:net';
import { test, type TestContext } from 'node:test';
import { cli, pidsOf, serviceOf, show, startWarden, statusOf } from './control-helpers.js';
import { eventually, freePort, Sandbox, sq, type ServiceDef, type Warden } from './harness.js';

/** warden as PID 1 on `services`, once its control socket answers (whatever the services do). */
async function bootWith(t: TestContext, services: Readonly<Record<string, ServiceDef>>): Promise<{ box: Sandbox; warden: Warden; socket: string }> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  for (const [name, def] of Object.entries(services)) await box.service(name, def);
  const socket = box.path('run', 'control.sock');
  const warden = box.boot({ env: { WARDEN_SOCKET: socket } });
  await eventually('the control socket', () => statusOf(socket).then(() => true, () => false), 15_000);
  return { box, warden, socket };
}


/** The server each run execs: it answers every connection with its pid, on every fd from 3 it was given. */
const SERVER = `
const net = require('node:net');
const fs = require('node:fs');
const count = Number(process.env.LISTEN_FDS);
// In its working dir, the service's runtime dir (not its service dir, where warden would read it).
fs.appendFileSync('runs', JSON.stringify({ pid: process.pid, fds: process.env.LISTEN_FDS, listenPid: process.env.LISTEN_PID, names: process.env.LISTEN_FDNAMES }) + '\\n');
for (let fd = 3; fd < 3 + count; fd++) net.createServer((s) => s.end(process.pid + '\\n')).listen({ fd });
`;

function runOf(script: string): string {
  return `exec ${sq(process.execPath)} ${script}`;
}

type Outcome = { ok: true; pid: number } | { ok: false; code: string };

/** One connection: what the server answered, or the error (ECONNREFUSED …). */
function ask(target: { port: number } | { path: string }): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ ...target, ...('port' in target ? { host: '127.0.0.1' } : {}) });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? err.message }));
    socket.on('close', () => {
      const pid = Number(text.trim());
      if (text.endsWith('\n') && Number.isInteger(pid)) resolve({ ok: true, pid });
      else resolve({ ok: false, code: `closed without an answer (${JSON.stringify(text)})` });
    });
  });
}

test('listen: fds 3 and 4 with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID = the service pid; unix and tcp', async (t) => {
  const port = await freePort();
  const sockDir = await mkdtemp(join(tmpdir(), 'warden-listen-'));
  t.after(() => rm(sockDir, { recursive: true, force: true }));
  // Its dir does not exist yet: warden makes it.
  const sockPath = join(sockDir, 'sock', 'echo.sock');
  const running = await startWarden(t, {
    echo: { run: runOf('server.js'), files: { 'server.js': SERVER, listen: `# the public port\ntcp:127.0.0.1:${port} 128\n\nunix:${sockPath}\n` } },
  });
  const up = await eventually('echo up on both sockets', async () => {
    const s = await serviceOf(running.socket, 'echo').catch(() => null);
    if (s?.state !== 'up' || s.pid === null) return null;
    const [tcp, unix] = await Promise.all([ask({ port }), ask({ path: sockPath })]);
    return tcp.ok && unix.ok && tcp.pid === unix.pid ? tcp.pid : null;
  }, 20_000);
  const runs = (await running.box.read(running.box.path('run', 'service', 'echo', 'runs')))!.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>);
  const last = runs.at(-1)!;
  assert.deepEqual(last, { pid: up, fds: '2', listenPid: String(up), names: 'echo:echo' });
});

test('listen: kill -9 of the service in a loop while a client connects: no connection refused', async (t) => {
  const port = await freePort();
  const KILLS = 15;
  const CLIENTS = 2;
  const running = await startWarden(t, {
    // No backoff: a restart is due at once, the gap is only warden noticing and starting the next run.
    echo: { run: runOf('server.js'), files: { 'server.js': SERVER, listen: `tcp:127.0.0.1:${port}\n`, 'restart-delay': '0 0' } },
  });
  const outcomes: Outcome[] = [];
  let killing = true;
  // Two clients, one connection at a time each, for as long as the kills go on (then a last round).
  const client = async (): Promise<void> => {
    while (killing) outcomes.push(await ask({ port }));
    outcomes.push(await ask({ port }));
  };
  const clients = Array.from({ length: CLIENTS }, client);
  const killed: number[] = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      const pid = await eventually('a running echo', async () => (await pidsOf(running.socket)).echo ?? null, 20_000, 5);
      // At least one connection served by this run before it dies: the loop spans real restarts.
      const servedBefore = outcomes.length;
      await eventually('a connection during this run', () => outcomes.length > servedBefore, 20_000, 5);
      const host = await running.warden.hostPidOf(pid).catch(async (err: Error) => {
        throw new Error(`${err.message}; ${JSON.stringify(await running.warden.processes())}; ${running.warden.tail()}`);
      });
      process.kill(host, 'SIGKILL');
      killed.push(pid);
      await eventually('echo restarted', async () => {
        const now = (await pidsOf(running.socket)).echo;
        return now !== null && now !== undefined && now !== pid;
      }, 20_000, 5);
    }
  } finally {
    killing = false;
    await Promise.all(clients);
  }
  const failed = outcomes.filter((o) => !o.ok);
  const refused = failed.filter((o) => o.code === 'ECONNREFUSED');
  const servedBy = new Set(outcomes.flatMap((o) => (o.ok ? [o.pid] : [])));
  t.diagnostic(`${outcomes.length} connections, ${refused.length} refused, ${failed.length - refused.length} cut by a kill, served by ${servedBy.size} runs, ${killed.length} kills`);
  assert.deepEqual(refused, [], `connections refused: ${refused.length}`);
  // A connection the killed run had accepted and not answered yet is lost with it (each client
  // has at most one in flight); any other failure would be a connection the socket lost.
  assert.ok(failed.length <= CLIENTS * KILLS, `${failed.length} failed connections, more than the ${CLIENTS} in flight at each of ${KILLS} kills: ${JSON.stringify(failed.slice(0, 5))}`);
  assert.ok(servedBy.size >= KILLS, `served by ${servedBy.size} runs, expected one per kill at least`);
});

test('listen: a bad line and a port in use are reported by file and line; the other services run', async (t) => {
  const port = await freePort();
  // Someone else holds this port: binding it fails with EADDRINUSE.
  const squatter: Server = createServer();
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  t.after(() => void squatter.close());
  const running = await bootWith(t, {
    bad: { run: runOf('server.js'), files: { 'server.js': SERVER, listen: 'tcp:127.0.0.1:80\ntcp:localhost:8080\n' } },
    busy: { run: runOf('server.js'), files: { 'server.js': SERVER, listen: `# taken\ntcp:127.0.0.1:${port}\n` } },
    fine: { run: 'exec sleep 100000' },
  });
  const bad = await running.warden.waitForEvent((e) => e.event === 'config-problem' && String(e.file).endsWith('/bad/listen'), 15_000);
  assert.equal(bad.line, 2);
  assert.match(String(bad.msg), /bad\/listen:2: expected a numeric IPv4 address/);
  const busy = await running.warden.waitForEvent((e) => e.event === 'listen-failed', 15_000);
  assert.equal(busy.line, 2);
  assert.match(String(busy.msg), new RegExp(`busy/listen:2: cannot listen on 127\\.0\\.0\\.1:${port}: bind\\(127\\.0\\.0\\.1:${port}\\): EADDRINUSE`));
  await eventually('fine up', async () => (await serviceOf(running.socket, 'fine').catch(() => null))?.state === 'up', 15_000);
  // The port freed, a rescan binds it and starts the service.
  await new Promise((resolve) => squatter.close(resolve));
  const reload = await cli(running.socket, ['reload']);
  assert.equal(reload.code, 0, show(reload));
  const served = await eventually('busy serving on its port', async () => {
    const answer = await ask({ port });
    return answer.ok ? answer : null;
  }, 20_000);
  assert.equal(served.pid, (await serviceOf(running.socket, 'busy')).pid);
});
