import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadServiceDir } from '../../../src/config/load-services.js';
import type { ServiceSpec } from '../../../src/core/service-spec.js';
import { mkfifo } from './fifo.js';
import { DEFAULTS, RUN, defaultSpec, matchProblems, scriptsFingerprint, tempRoot, writeService, writeTree, type Entry } from './helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

/** A fresh, uniquely named service dir per test so tests never share files. */
async function service(files: Readonly<Record<string, Entry>>, withRun = true): Promise<string> {
  counter += 1;
  const name = `svc${counter}`;
  return withRun ? writeService(root, name, files) : writeTree(join(root, name), files);
}

function nameOf(dir: string): string {
  return dir.slice(dir.lastIndexOf('/') + 1);
}

describe('loadServiceDir: a dir with only run gets every default', () => {
  it('applies all defaults, timeoutKillMs from ServiceDefaults', async () => {
    const dir = await service({});
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.deepEqual(r, { spec: defaultSpec(dir, nameOf(dir)), problems: [] });
  });
});

describe('loadServiceDir: each valid setting file changes exactly its field', () => {
  const cases: { file: string; entry: Entry; expect: (dir: string) => Partial<ServiceSpec> }[] = [
    {
      file: 'finish',
      entry: { content: '#!/bin/sh\n', mode: 0o700 },
      expect: (d) => ({ finish: join(d, 'finish'), scriptsFingerprint: scriptsFingerprint(RUN.content, '#!/bin/sh\n') }),
    },
    { file: 'down', entry: 'whatever is in here\n', expect: () => ({ downAtBoot: true }) },
    { file: 'down', entry: '', expect: () => ({ downAtBoot: true }) },
    { file: 'notification-fd', entry: '3\n', expect: () => ({ notificationFd: 3 }) },
    { file: 'notification-fd', entry: '1023', expect: () => ({ notificationFd: 1023 }) },
    { file: 'timeout-kill', entry: '3000\n', expect: () => ({ timeoutKillMs: 3000 }) },
    { file: 'timeout-kill', entry: '0\n', expect: () => ({ timeoutKillMs: 0 }) },
    { file: 'timeout-kill', entry: '  250 \t\r\n\n', expect: () => ({ timeoutKillMs: 250 }) },
    { file: 'timeout-finish', entry: '1200\n', expect: () => ({ timeoutFinishMs: 1200 }) },
    { file: 'max-death-tally', entry: '0\n', expect: () => ({ maxDeathTally: 0 }) },
    { file: 'max-death-tally', entry: '4096\n', expect: () => ({ maxDeathTally: 4096 }) },
    { file: 'restart-reset', entry: '60000\n', expect: () => ({ restartResetMs: 60000 }) },
    { file: 'down-signal', entry: 'SIGINT\n', expect: () => ({ downSignal: 'SIGINT' }) },
    { file: 'down-signal', entry: 'TERM\n', expect: () => ({ downSignal: 'SIGTERM' }) },
    { file: 'down-signal', entry: 'sighup\n', expect: () => ({ downSignal: 'SIGHUP' }) },
    { file: 'down-signal', entry: 'kill', expect: () => ({ downSignal: 'SIGKILL' }) },
    { file: 'restart', entry: 'on-failure\n', expect: () => ({ restart: 'on-failure' }) },
    { file: 'user', entry: 'root\n', expect: () => ({ user: { uid: 0, gid: 0, label: 'root' } }) },
    { file: 'user', entry: '4242:4343\n', expect: () => ({ user: { uid: 4242, gid: 4343, label: '4242:4343' } }) },
    { file: 'restart', entry: 'never\n', expect: () => ({ restart: 'never' }) },
    { file: 'restart', entry: 'always\n', expect: () => ({ restart: 'always' }) },
    { file: 'restart-delay', entry: '100 5000\n', expect: () => ({ restartDelay: { minMs: 100, maxMs: 5000 } }) },
    { file: 'restart-delay', entry: '  7 \t 7  \n', expect: () => ({ restartDelay: { minMs: 7, maxMs: 7 } }) },
    { file: 'on-exit', entry: 'halt\n', expect: () => ({ onExit: 'halt' }) },
    { file: 'on-exit', entry: 'restart\n', expect: () => ({ onExit: 'restart' }) },
    {
      file: 'dependencies',
      entry: '# started first\nserf\n\n  db@1  \nserf\n#later\nweb-app.v2\n',
      expect: () => ({ dependencies: ['serf', 'db@1', 'web-app.v2'] }),
    },
    { file: 'dependencies', entry: '', expect: () => ({ dependencies: [] }) },
    { file: 'env/PORT', entry: '3000\n', expect: () => ({ env: { PORT: '3000' } }) },
  ];
  for (const c of cases) {
    it(`${c.file} containing ${JSON.stringify(typeof c.entry === 'string' ? c.entry : 'an executable')}`, async () => {
      const dir = await service({ [c.file]: c.entry });
      const r = await loadServiceDir(dir, DEFAULTS);
      assert.deepEqual(r, { spec: { ...defaultSpec(dir, nameOf(dir)), ...c.expect(dir) }, problems: [] });
    });
  }

  it('an edited run script changes the scripts digest, so a rescan sees a changed service', async () => {
    const dir = await service({});
    const before = (await loadServiceDir(dir, DEFAULTS)).spec?.scriptsFingerprint;
    await writeFile(join(dir, 'run'), '#!/bin/sh\nexec sleep 2000\n');
    const after = (await loadServiceDir(dir, DEFAULTS)).spec?.scriptsFingerprint;
    assert.notEqual(before, undefined);
    assert.notEqual(after, before);
  });

  it('ignores unknown files and dirs that s6 dirs carry (data/, log/, supervise/, nosetsid …)', async () => {
    const dir = await service({
      'data/x': 'y',
      'log/run': RUN,
      'supervise/status': 'x',
      'event/.keep': '',
      nosetsid: '',
      'lock-fd': '5\n',
      'template/run': RUN,
      README: 'notes',
    });
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.deepEqual(r, { spec: defaultSpec(dir, nameOf(dir)), problems: [] });
  });

  it('accepts run as a symlink to an executable', async () => {
    const dir = await service({ 'real-run': RUN }, false);
    await symlink(join(dir, 'real-run'), join(dir, 'run'));
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.deepEqual(r, { spec: defaultSpec(dir, nameOf(dir)), problems: [] });
  });

  it('resolves a relative dir to an absolute one', async () => {
    const dir = await service({});
    const r = await loadServiceDir(relative(process.cwd(), dir), DEFAULTS);
    assert.equal(r.spec?.dir, dir);
  });
});

describe('loadServiceDir: each bad setting file is one problem with its path and line', () => {
  const cases: { file: string; entry: Entry; line: number | null; includes: string }[] = [
    { file: 'timeout-kill', entry: '3s\n', line: 1, includes: 'expected a whole number of milliseconds (e.g. 3000), got "3s"' },
    { file: 'timeout-kill', entry: '-1\n', line: 1, includes: 'got "-1"' },
    { file: 'timeout-kill', entry: '1.5\n', line: 1, includes: 'got "1.5"' },
    { file: 'timeout-kill', entry: '', line: null, includes: 'is empty: expected a whole number of milliseconds' },
    { file: 'timeout-kill', entry: ' \n\n', line: null, includes: 'is empty' },
    { file: 'timeout-kill', entry: '\n3000\n', line: 1, includes: 'got an empty line' },
    { file: 'timeout-kill', entry: '# grace\n3000\n', line: 1, includes: 'comments are not allowed here' },
    { file: 'timeout-kill', entry: '3000 4000\n', line: 1, includes: 'got "3000 4000"' },
    { file: 'timeout-kill', entry: '2147483648\n', line: 1, includes: 'at most 2147483647 ms' },
    { file: 'timeout-finish', entry: 'soon\n', line: 1, includes: 'expected a whole number of milliseconds (e.g. 5000), got "soon"' },
    { file: 'restart-reset', entry: '10s\n', line: 1, includes: 'expected a whole number of milliseconds (e.g. 10000), got "10s"' },
    { file: 'notification-fd', entry: '1\n', line: 1, includes: '0, 1 and 2 are stdin, stdout and stderr' },
    { file: 'notification-fd', entry: '0\n', line: 1, includes: 'stdin, stdout and stderr' },
    { file: 'notification-fd', entry: '1024\n', line: 1, includes: 'expected a file descriptor number from 3 to 1023, got "1024"' },
    { file: 'notification-fd', entry: 'three\n', line: 1, includes: 'from 3 to 1023, got "three"' },
    { file: 'max-death-tally', entry: '4097\n', line: 1, includes: 'from 0 to 4096 (s6\'s maximum), got "4097"' },
    { file: 'max-death-tally', entry: 'lots\n', line: 1, includes: 'got "lots"' },
    { file: 'down-signal', entry: 'SIGFOO\n', line: 1, includes: 'expected a signal name such as TERM, INT, HUP' },
    { file: 'down-signal', entry: 'STOP\n', line: 1, includes: 'never exits' },
    { file: 'down-signal', entry: '', line: null, includes: 'is empty: expected a signal name' },
    { file: 'user', entry: 'no-such-user-here\n', line: 1, includes: 'no user "no-such-user-here" in /etc/passwd' },
    { file: 'stop-timeout', entry: '3000\n', line: null, includes: "warden has no stop-timeout setting: s6's timeout-kill" },
    { file: 'restart', entry: 'sometimes\n', line: 1, includes: 'expected always, on-failure or never, got "sometimes"' },
    { file: 'restart', entry: 'Always\n', line: 1, includes: 'got "Always"' },
    { file: 'restart', entry: '# always\n', line: 1, includes: 'comments are not allowed here' },
    { file: 'on-exit', entry: 'stop\n', line: 1, includes: 'expected restart or halt, got "stop"' },
    { file: 'restart-delay', entry: '100\n', line: 1, includes: 'expected two whole numbers of milliseconds, MIN MAX (e.g. "0 30000"), got "100"' },
    { file: 'restart-delay', entry: '1 2 3\n', line: 1, includes: 'got "1 2 3"' },
    { file: 'restart-delay', entry: '1s 2s\n', line: 1, includes: 'got "1s 2s"' },
    { file: 'restart-delay', entry: '5000 1000\n', line: 1, includes: 'MIN 5000 greater than MAX 1000' },
    { file: 'restart-delay', entry: '0 9999999999\n', line: 1, includes: 'at most 2147483647 ms' },
    { file: 'timeout-kill', entry: { dir: true }, line: null, includes: 'is a directory: expected a file' },
    { file: 'restart', entry: { dir: true }, line: null, includes: 'is a directory' },
    { file: 'finish', entry: { content: '#!/bin/sh\n', mode: 0o644 }, line: null, includes: 'finish is not executable: run chmod +x' },
    { file: 'finish', entry: { dir: true }, line: null, includes: 'finish is not a regular file' },
  ];
  for (const c of cases) {
    const shown = typeof c.entry === 'string' ? JSON.stringify(c.entry) : 'dir' in c.entry ? 'a directory' : 'a non-executable';
    it(`${c.file} containing ${shown}: ${c.includes}`, async () => {
      const dir = await service({ [c.file]: c.entry });
      const r = await loadServiceDir(dir, DEFAULTS);
      assert.equal(r.spec, null);
      const err = matchProblems(r.problems, [{ file: join(dir, c.file), line: c.line, includes: c.includes }]);
      assert.equal(err, null, err ?? '');
    });
  }

  it('dependencies: every bad line is reported with its own line number', async () => {
    const dir = await service({ dependencies: '# deps\nserf\nmy service\n\n.hidden\nweb/app\n' });
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.equal(r.spec, null);
    const file = join(dir, 'dependencies');
    const err = matchProblems(r.problems, [
      { file, line: 3, includes: '"my service" may contain only letters, digits' },
      { file, line: 5, includes: '".hidden" starts with "."' },
      { file, line: 6, includes: '"web/app" may contain only' },
    ]);
    assert.equal(err, null, err ?? '');
  });

  it('dependencies: a service naming itself is a problem on that line', async () => {
    const dir = await service({});
    await writeFile(join(dir, 'dependencies'), `serf\n${nameOf(dir)}\n`);
    const r = await loadServiceDir(dir, DEFAULTS);
    const err = matchProblems(r.problems, [{ file: join(dir, 'dependencies'), line: 2, includes: 'cannot depend on itself' }]);
    assert.equal(err, null, err ?? '');
  });
});

describe('loadServiceDir: run and the directory itself', () => {
  it('no run file is a problem naming where run should be', async () => {
    const dir = await service({ 'timeout-kill': '3000\n' }, false);
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.equal(r.spec, null);
    assert.deepEqual(r.problems, [{ file: join(dir, 'run'), line: null, message: 'no run file: a service needs an executable run' }]);
  });

  it('a run without any x bit says chmod +x with its path', async () => {
    const dir = await service({ run: { content: '#!/bin/sh\n', mode: 0o644 } }, false);
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.deepEqual(r.problems, [
      { file: join(dir, 'run'), line: null, message: `run is not executable: run chmod +x ${join(dir, 'run')}` },
    ]);
  });

  it('a run with only the other-x bit counts as executable (mode bits, not access())', async () => {
    const dir = await service({ run: { content: '#!/bin/sh\n', mode: 0o601 } }, false);
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.deepEqual(r.problems, []);
  });

  it('run that is a directory is a problem', async () => {
    const dir = await service({ run: { dir: true } }, false);
    const r = await loadServiceDir(dir, DEFAULTS);
    const err = matchProblems(r.problems, [{ file: join(dir, 'run'), line: null, includes: 'run is not a regular file' }]);
    assert.equal(err, null, err ?? '');
  });

  it('run that is a dangling symlink says so', async () => {
    const dir = await service({}, false);
    await symlink(join(dir, 'nowhere'), join(dir, 'run'));
    const r = await loadServiceDir(dir, DEFAULTS);
    const err = matchProblems(r.problems, [{ file: join(dir, 'run'), line: null, includes: 'run is a symlink to a missing file' }]);
    assert.equal(err, null, err ?? '');
  });

  for (const script of ['run', 'finish', 'check']) {
    it(`a FIFO named ${script} is a problem, not a hang`, { timeout: 5000 }, async (t) => {
      const dir = await service({}, script !== 'run');
      if (!(await mkfifo(join(dir, script)))) return t.skip('mkfifo not available');
      const r = await loadServiceDir(dir, DEFAULTS);
      assert.equal(r.spec, null);
      const err = matchProblems(r.problems, [{ file: join(dir, script), line: null, includes: `${script} is not a regular file` }]);
      assert.equal(err, null, err ?? '');
    });
  }

  it('a service name with a space is a problem on the directory', async () => {
    const dir = await writeService(root, 'my service');
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.equal(r.spec, null);
    const err = matchProblems(r.problems, [{ file: dir, line: null, includes: 'may contain only letters, digits, "_", ".", "@" and "-"' }]);
    assert.equal(err, null, err ?? '');
  });

  it('a missing directory is a problem, not an exception', async () => {
    const dir = join(root, 'does-not-exist');
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.deepEqual(r, { spec: null, problems: [{ file: dir, line: null, message: 'no such service directory' }] });
  });

  it('a file where the directory should be is a problem', async () => {
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    const r = await loadServiceDir(file, DEFAULTS);
    const err = matchProblems(r.problems, [{ file, line: null, includes: 'is not a directory' }]);
    assert.equal(err, null, err ?? '');
  });

  it('reports every problem of a service at once, in a stable order', async () => {
    const dir = await service({ run: { content: 'x', mode: 0o600 }, 'timeout-kill': 'x\n', restart: 'x\n' }, false);
    const r = await loadServiceDir(dir, DEFAULTS);
    const err = matchProblems(r.problems, [
      { file: join(dir, 'run'), line: null, includes: 'chmod +x' },
      { file: join(dir, 'timeout-kill'), line: 1, includes: 'got "x"' },
      { file: join(dir, 'restart'), line: 1, includes: 'got "x"' },
    ]);
    assert.equal(err, null, err ?? '');
  });

  it('env/ problems make the service fail to load', async () => {
    const dir = await service({ 'env/A=B': 'x\n' });
    const r = await loadServiceDir(dir, DEFAULTS);
    assert.equal(r.spec, null);
    const err = matchProblems(r.problems, [{ file: join(dir, 'env', 'A=B'), line: null, includes: 'contains "="' }]);
    assert.equal(err, null, err ?? '');
  });

  it('env that is a file, not a directory, is a problem', async () => {
    const dir = await service({ env: 'PORT=3000\n' });
    const r = await loadServiceDir(dir, DEFAULTS);
    const err = matchProblems(r.problems, [{ file: join(dir, 'env'), line: null, includes: 'is not a directory' }]);
    assert.equal(err, null, err ?? '');
  });
});
