/**
 * Connection reuse of servers added through the runtime API, with real HAProxy (master-worker,
 * the shipped template), real webapp processes and wrk, all on 127.0.0.1. On HAProxy 2.6 a
 * server from `add server` gets neither `pool-max-conn` nor `pool-purge-delay` by default: it
 * kept no idle connection and opened one per request. server.hbs gives both to every server, so
 * a runtime server must reuse its connections like one read from the config file.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadTemplates, renderHaproxyConfig, renderServerArgs, type Server } from '../../src/stack/haproxy/render.js';
import { RuntimeApi } from '../../src/stack/haproxy/runtime-api.js';
import { haproxySettings, type HaproxySettings } from '../../src/stack/haproxy/settings.js';
import { eventually, REPO_ROOT } from './stack-node.js';

const WRK_SECONDS = Number(process.env.STACK_REUSE_SECONDS || 4);
// STACK_TEMPLATE_DIR: measure other templates (e.g. a server.hbs without the pool settings).
const templates = loadTemplates(process.env.STACK_TEMPLATE_DIR || undefined);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** wrk's requests per second for `seconds` of keep-alive load on `url`. */
async function wrk(url: string, seconds: number): Promise<number> {
  const { stdout } = await promisify(execFile)('wrk', ['-t1', '-c16', `-d${seconds}s`, url], { timeout: (seconds + 20) * 1000 });
  const match = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  assert.ok(match, `no Requests/sec in wrk's output: ${stdout}`);
  return Number(match[1]);
}

describe('connection reuse: servers added through the runtime API reuse connections like config-file ones', { timeout: 120_000 }, () => {
  let dir: string;
  let settings: HaproxySettings;
  let api: RuntimeApi;
  let url: string;
  const children: ChildProcess[] = [];
  const servers: Server[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-reuse-'));
    const httpPort = await freePort();
    settings = haproxySettings({ STACK_RUN_DIR: dir, HAPROXY_HTTP_BIND: `127.0.0.1:${httpPort}`, HAPROXY_STATS_BIND: `127.0.0.1:${await freePort()}` });
    url = `http://127.0.0.1:${httpPort}/`;
    for (const name of ['file1', 'runtime1']) {
      const port = await freePort();
      servers.push({ name, address: '127.0.0.1', port });
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: String(port), HOST_BIND: '127.0.0.1', HOSTNAME: name };
      children.push(spawn(process.execPath, [join(REPO_ROOT, 'dist/src/stack/webapp/main.js')], { env, stdio: 'ignore' }));
    }
    // The file has only file1; runtime1 comes through the runtime API, as the handler adds nodes.
    writeFileSync(settings.configPath, renderHaproxyConfig([servers[0]!], settings, templates));
    const haproxy = spawn('haproxy', ['-Ws', '-S', `${settings.masterSocket},mode,600`, '-f', settings.configPath], {
      stdio: 'ignore',
      env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    });
    children.push(haproxy);
    api = new RuntimeApi(settings.adminSocket, settings.masterSocket);
    await eventually('haproxy answering on its admin socket', () => api.workerPid(), 10_000);
    await eventually('file1 up', async () => (await api.stat()).some((r) => r.server === 'file1' && r.status === 'UP'), 10_000);
  });

  after(() => {
    // HAProxy's master soft-stops its worker on SIGUSR1; the webapps stop on SIGTERM.
    for (const child of children) child.kill(child.spawnfile === 'haproxy' ? 'SIGUSR1' : 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const row = async (name: string) => {
    const found = (await api.stat()).find((r) => r.proxy === settings.backend && r.server === name);
    assert.ok(found, `${name} in show stat`);
    return found;
  };

  it('under wrk, a runtime server opens about as few connections as a config-file server', async () => {
    const fileRps = await wrk(url, WRK_SECONDS);
    const file = await row('file1');

    const be = settings.backend;
    await api.run(`add server ${be}/${renderServerArgs(servers[1]!, settings, templates)}`, ['New server registered.']);
    await api.run(`enable health ${be}/runtime1`);
    await api.run(`enable server ${be}/runtime1`);
    await api.run(`set server ${be}/file1 state maint`);
    const runtimeRps = await wrk(url, WRK_SECONDS);
    const runtime = await row('runtime1');

    console.log(`# measured: config-file server: ${Math.round(fileRps)} req/s, connect ${file.connects}, reuse ${file.reuses}`);
    console.log(`# measured: runtime-API server: ${Math.round(runtimeRps)} req/s, connect ${runtime.connects}, reuse ${runtime.reuses}`);
    console.log(`# measured: runtime ÷ config-file req/s: ${(runtimeRps / fileRps).toFixed(2)}`);
    assert.ok(runtime.total > 1000, `runtime1 served ${runtime.total} requests`);
    // Reused: far fewer new connections than requests (without the pool settings, one each).
    assert.ok(runtime.connects * 10 < runtime.total, `runtime1 opened ${runtime.connects} connections for ${runtime.total} requests`);
    assert.ok(runtime.reuses > runtime.total / 2, `runtime1 reused connections ${runtime.reuses} times for ${runtime.total} requests`);
  });
});
