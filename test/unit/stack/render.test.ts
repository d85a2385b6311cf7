import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadTemplates, renderHaproxyConfig, renderServerArgs, serverName, TemplateError, type Templates } from '../../../src/stack/haproxy/render.js';
import { handlerTimings, haproxySettings, StackSettingError } from '../../../src/stack/haproxy/settings.js';
import { checkableConfig, ConfigRejected, validateConfig } from '../../../src/stack/haproxy/validate.js';

const settings = haproxySettings({ STACK_RUN_DIR: '/run/test-stack', HAPROXY_HTTP_BIND: '127.0.0.1:8080' });
const web1 = { name: 'web1', address: '10.0.0.11', port: 3000 };
const web2 = { name: 'web2', address: '10.0.0.12', port: 3001 };

const serverLines = (cfg: string): string[] => cfg.split('\n').filter((l) => /^\s+server /.test(l)).map((l) => l.trim());

describe('renderHaproxyConfig (the shipped template)', () => {
  test('one server line per member, sorted by name, with the partial’s parameters', () => {
    const cfg = renderHaproxyConfig([web2, web1], settings);
    assert.deepEqual(serverLines(cfg), [
      'server web1 10.0.0.11:3000 check inter 1000ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down pool-max-conn -1 pool-purge-delay 5s',
      'server web2 10.0.0.12:3001 check inter 1000ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down pool-max-conn -1 pool-purge-delay 5s',
    ]);
  });

  test('equal member sets render equal files, whatever their order', () => {
    assert.equal(renderHaproxyConfig([web1, web2], settings), renderHaproxyConfig([web2, web1], settings));
  });

  test('carries the settings: frontend bind, stats, admin socket, cookie key, stickiness, retries', () => {
    const cfg = renderHaproxyConfig([], settings);
    for (const line of [
      'bind 127.0.0.1:8080',
      'bind fd@4',
      'stats socket /run/test-stack/haproxy-admin.sock mode 600 level admin expose-fd listeners',
      'option httpchk GET /',
      'balance roundrobin',
      'cookie SERVERID insert indirect nocache dynamic',
      'dynamic-cookie-key warden-stack',
      'option redispatch 1',
      'retries 3',
      'retry-on all-retryable-errors',
    ]) {
      assert.ok(cfg.includes(line), `missing "${line}"`);
    }
    assert.deepEqual(serverLines(cfg), []);
  });

  test('renderServerArgs is the same partial the file uses', () => {
    assert.equal(renderServerArgs(web1, settings), 'web1 10.0.0.11:3000 check inter 1000ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down pool-max-conn -1 pool-purge-delay 5s');
  });

  test('by default both binds are the held sockets of the haproxy service: fd@3 and fd@4', () => {
    const cfg = renderHaproxyConfig([], haproxySettings({}));
    assert.deepEqual(cfg.split('\n').filter((l) => /^\s+bind /.test(l)).map((l) => l.trim()), ['bind fd@3', 'bind fd@4']);
  });
});

describe('validateConfig (haproxy -c on a render)', { skip: !hasHaproxy() && 'haproxy is not installed' }, () => {
  const withDir = async (run: (dir: string) => Promise<void>): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-render-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('plain haproxy -c refuses fd@3 where fd 3 is no socket: why the check reads a copy', () =>
    withDir(async (dir) => {
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, renderHaproxyConfig([web1], haproxySettings({ STACK_RUN_DIR: dir })));
      assert.throws(() => execFileSync(haproxyPath(), ['-c', '-f', file], { stdio: 'pipe' }), /cannot use file descriptor '3'/);
    }));

  test('the shipped render with fd@ binds passes, and the file is left as rendered', () =>
    withDir(async (dir) => {
      const file = join(dir, 'haproxy.cfg');
      const cfg = renderHaproxyConfig([web1, web2], haproxySettings({ STACK_RUN_DIR: dir }));
      writeFileSync(file, cfg);
      await validateConfig(file, haproxyPath());
      assert.equal(readFileSync(file, 'utf8'), cfg);
      assert.deepEqual(readdirSync(dir), ['haproxy.cfg'], 'the checked copy is removed');
    }));

  test('a rejected render names the rendered file and its line, not the copy', () =>
    withDir(async (dir) => {
      const file = join(dir, 'haproxy.cfg');
      const cfg = renderHaproxyConfig([web1], haproxySettings({ STACK_RUN_DIR: dir })).replace('    balance roundrobin', '    balance roundrobin\n    no-such-keyword here');
      writeFileSync(file, cfg);
      const line = cfg.split('\n').indexOf('    no-such-keyword here') + 1;
      await assert.rejects(validateConfig(file, haproxyPath()), (err: unknown) => {
        assert.ok(err instanceof ConfigRejected);
        assert.match(err.message, new RegExp(`\\[${file.replace(/[.]/g, '\\.')}:${line}\\]`));
        assert.doesNotMatch(err.message, /\.check/);
        return true;
      });
      assert.deepEqual(readdirSync(dir), ['haproxy.cfg']);
    }));

  test('checkableConfig rewrites fd@N binds only', () => {
    assert.equal(checkableConfig('frontend web\n    bind fd@3\n    bind fd@12 # x\n    bind :80\n    server fd@3\n'), 'frontend web\n    bind abns@haproxy-check-fd3\n    bind abns@haproxy-check-fd12 # x\n    bind :80\n    server fd@3\n');
  });
});

describe('template errors', () => {
  const base = loadTemplates();
  const broken = (patch: Partial<Templates>): Templates => ({ ...base, dir: '/templates', ...patch });

  test('a syntax error names the template file', () => {
    const templates = broken({ config: '{{#each servers}\n' });
    assert.throws(() => renderHaproxyConfig([web1], settings, templates), (err: unknown) => err instanceof TemplateError && err.message.startsWith('/templates/haproxy.cfg.hbs: Parse error'));
  });

  test('a misspelt variable is an error (strict), not an empty string in the config', () => {
    const templates = broken({ config: 'bind {{settings.httpBnd}}\n' });
    assert.throws(() => renderHaproxyConfig([], settings, templates), /haproxy\.cfg\.hbs: "httpBnd" not defined/);
  });

  test('an error in the server partial names server.hbs', () => {
    const templates = broken({ server: '{{server.nmae}}' });
    assert.throws(() => renderServerArgs(web1, settings, templates), /server\.hbs: "nmae" not defined/);
  });

  test('a missing template dir is a TemplateError naming the path', () => {
    assert.throws(() => loadTemplates('/nonexistent/templates'), /\/nonexistent\/templates\/haproxy\.cfg\.hbs: cannot read/);
  });
});

describe('serverName and settings', () => {
  test('Serf names become HAProxy identifiers', () => {
    assert.equal(serverName('web-1.example:x'), 'web-1.example:x');
    assert.equal(serverName('web 1/ä'), 'web_1__');
    assert.equal(serverName(''), '_');
  });

  test('a bad number in the environment names the variable', () => {
    assert.throws(() => haproxySettings({ WEBAPP_PORT: 'http' }), (err: unknown) => err instanceof StackSettingError && err.message.startsWith('WEBAPP_PORT=http'));
    // A resync interval of 0 or garbage would spin: at least 1 s.
    assert.throws(() => handlerTimings({ STACK_RESYNC_MS: '0' }), (err: unknown) => err instanceof StackSettingError && err.message.startsWith('STACK_RESYNC_MS=0'));
    assert.deepEqual(handlerTimings({}), { drainTimeoutMs: 5000, resyncMs: 30_000 });
  });

  test('paths follow STACK_RUN_DIR unless set one by one', () => {
    const s = haproxySettings({ STACK_RUN_DIR: '/x', HAPROXY_MASTER_SOCKET: '/m.sock' });
    assert.equal(s.adminSocket, '/x/haproxy-admin.sock');
    assert.equal(s.masterSocket, '/m.sock');
    assert.equal(s.configPath, '/x/haproxy.cfg');
  });
});

function haproxyPath(): string {
  for (const p of ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {
      // Try the next.
    }
  }
  return 'haproxy';
}

function hasHaproxy(): boolean {
  try {
    execFileSync(haproxyPath(), ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
