import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatProblem } from '../../../src/config/config-problem.js';
import { loadS6RcSource } from '../../../src/config/s6-rc-source.js';
import { DEFAULTS, RUN, tempRoot, writeTree, type Entry } from '../config/helpers.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ root, cleanup } = await tempRoot()));
after(() => cleanup());

/** A fresh s6-rc.d holding `files` (paths like `web/type`). */
async function source(files: Readonly<Record<string, Entry>>): Promise<string> {
  counter += 1;
  const dir = join(root, `s6-rc${counter}.d`);
  await mkdir(dir, { recursive: true });
  return writeTree(dir, files);
}

const longrun = (name: string, deps: readonly string[] = []): Record<string, Entry> => ({
  [`${name}/type`]: 'longrun\n',
  [`${name}/run`]: RUN,
  ...Object.fromEntries(deps.map((d) => [`${name}/dependencies.d/${d}`, ''])),
});
const oneshot = (name: string, up: string, deps: readonly string[] = []): Record<string, Entry> => ({
  [`${name}/type`]: 'oneshot\n',
  [`${name}/up`]: up,
  ...Object.fromEntries(deps.map((d) => [`${name}/dependencies.d/${d}`, ''])),
});
const bundle = (name: string, contents: readonly string[]): Record<string, Entry> => ({
  [`${name}/type`]: 'bundle\n',
  ...(contents.length === 0 ? { [`${name}/contents.d`]: { dir: true } } : {}),
  ...Object.fromEntries(contents.map((c) => [`${name}/contents.d/${c}`, ''])),
});
const messages = (r: { problems: readonly { file: string; line: number | null; message: string }[] }): string[] => r.problems.map(formatProblem);

describe('loadS6RcSource', () => {
  it('reads longruns and oneshots of the user bundle, dependencies from dependencies.d', async () => {
    const dir = await source({
      ...longrun('svc-web', ['init-config', 'base']),
      ...oneshot('init-config', '/etc/s6-overlay/scripts/init-config\n', ['base']),
      ...bundle('user', ['svc-web']),
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(messages(r), []);
    assert.deepEqual(r.longruns.map((s) => [s.name, s.dir, s.dependencies]), [['svc-web', join(dir, 'svc-web'), ['init-config']]]);
    assert.deepEqual(r.oneshots, [
      {
        name: 'init-config',
        dir: join(dir, 'init-config'),
        up: { file: join(dir, 'init-config', 'up'), script: { kind: 'argv', argv: ['/etc/s6-overlay/scripts/init-config'] } },
        down: null,
        timeoutUpMs: 0,
        timeoutDownMs: 0,
        dependencies: [],
      },
    ]);
  });

  it('starts only what user and user2 want, with their dependencies', async () => {
    const dir = await source({
      ...longrun('a', ['b']),
      ...longrun('b'),
      ...longrun('c'),
      ...longrun('unused'),
      ...bundle('user', ['a']),
      ...bundle('user2', ['c']),
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(r.longruns.map((s) => s.name), ['a', 'b', 'c']);
  });

  it('expands bundles in contents and in dependencies, nested', async () => {
    const dir = await source({
      ...longrun('db'),
      ...oneshot('migrate', 'true', ['db']),
      ...bundle('backend', ['db', 'migrate']),
      ...bundle('everything', ['backend']),
      ...longrun('web', ['everything']),
      ...bundle('user', ['web']),
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(messages(r), []);
    const web = r.longruns.find((s) => s.name === 'web')!;
    assert.deepEqual(web.dependencies, ['db', 'migrate']);
    assert.deepEqual(r.oneshots.map((o) => [o.name, o.dependencies]), [['migrate', ['db']]]);
  });

  it('reads the older one-name-per-line dependencies and contents files too', async () => {
    const dir = await source({
      ...longrun('web'),
      'web/dependencies': '# what web needs\ndb\n',
      ...longrun('db'),
      'user/type': 'bundle',
      'user/contents': 'web\n',
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(messages(r), []);
    assert.deepEqual(r.longruns.map((s) => [s.name, s.dependencies]), [['db', []], ['web', ['db']]]);
  });

  it('keeps s6 service-dir files of a longrun (finish, notification-fd, timeout-kill)', async () => {
    const dir = await source({
      ...longrun('web'),
      'web/finish': RUN,
      'web/notification-fd': '3\n',
      'web/timeout-kill': '1500\n',
      ...bundle('user', ['web']),
    });
    const [web] = (await loadS6RcSource(dir, DEFAULTS)).longruns;
    assert.equal(web!.finish, join(dir, 'web', 'finish'));
    assert.equal(web!.notificationFd, 3);
    assert.equal(web!.timeoutKillMs, 1500);
  });

  it('reads a oneshot\'s down, timeouts, and marks execline scripts', async () => {
    const dir = await source({
      ...oneshot('init', 'foreground { echo hi }\necho done\n'),
      'init/down': '# comment only\n',
      'init/timeout-up': '2000\n',
      'init/timeout-down': '500\n',
      ...bundle('user', ['init']),
    });
    const [init] = (await loadS6RcSource(dir, DEFAULTS)).oneshots;
    assert.deepEqual(init!.up.script, { kind: 'execline', why: 'a "{" block' });
    assert.deepEqual(init!.down!.script, { kind: 'empty' });
    assert.equal(init!.timeoutUpMs, 2000);
    assert.equal(init!.timeoutDownMs, 500);
  });

  it('does not start a logger (consumer-for): warden captures the output itself', async () => {
    const dir = await source({
      ...longrun('web'),
      'web/producer-for': 'web-log\n',
      ...longrun('web-log'),
      'web-log/consumer-for': 'web\n',
      ...bundle('user', ['web', 'web-log']),
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(r.longruns.map((s) => s.name), ['web']);
    assert.match(r.notes.join('\n'), /web-log is the s6-rc logger of web: not started/);
  });

  it('says so when there is no user bundle', async () => {
    const dir = await source(longrun('web'));
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(r.longruns, []);
    assert.match(r.notes[0]!, /has no "user" bundle: none of its 1 services start/);
  });

  it('an empty user bundle starts nothing, quietly', async () => {
    const r = await loadS6RcSource(await source(bundle('user', [])), DEFAULTS);
    assert.deepEqual([r.longruns, r.oneshots, r.problems, r.notes], [[], [], [], []]);
  });

  it('a missing source dir is empty, not a problem', async () => {
    const r = await loadS6RcSource(join(root, 'nope'), DEFAULTS);
    assert.deepEqual([r.longruns, r.oneshots, r.problems], [[], [], []]);
  });

  describe('errors name the file', () => {
    it('a missing or unknown type', async () => {
      const dir = await source({ 'a/run': RUN, 'b/type': 'daemon\n', ...bundle('user', ['a', 'b']) });
      assert.deepEqual(messages(await loadS6RcSource(dir, DEFAULTS)), [
        `${join(dir, 'a', 'type')}: missing: an s6-rc service needs a type file holding longrun, oneshot or bundle`,
        `${join(dir, 'b', 'type')}:1: expected longrun, oneshot or bundle, got "daemon"`,
        `${join(dir, 'user', 'contents.d', 'a')}: bundle user names "a", which is not defined in ${dir}`,
        `${join(dir, 'user', 'contents.d', 'b')}: bundle user names "b", which is not defined in ${dir}`,
      ]);
    });

    it('a oneshot without up, and an unclosed quote', async () => {
      const dir = await source({ 'a/type': 'oneshot', ...oneshot('b', 'echo "oops\n'), ...bundle('user', ['a', 'b']) });
      const m = messages(await loadS6RcSource(dir, DEFAULTS));
      assert.ok(m.includes(`${join(dir, 'a', 'up')}: missing: a oneshot needs an up file (a command line, run as an execline script)`), m.join('\n'));
      assert.ok(m.includes(`${join(dir, 'b', 'up')}: cannot read it as an execline command line: a double quote is never closed`), m.join('\n'));
    });

    it('a dependency that is defined nowhere (s6-overlay\'s own names are fine)', async () => {
      const dir = await source({ ...longrun('web', ['base', 'legacy-cont-init', 'dbb']), ...bundle('user', ['web']) });
      const r = await loadS6RcSource(dir, DEFAULTS);
      assert.deepEqual(messages(r), [`${join(dir, 'web', 'dependencies.d', 'dbb')}: web's dependency names "dbb", which is not defined in ${dir}`]);
      assert.deepEqual(r.longruns[0]!.dependencies, []);
    });

    it('a bundle cycle names the chain', async () => {
      const dir = await source({ ...bundle('a', ['b']), ...bundle('b', ['a']), ...bundle('user', ['a']) });
      assert.match(messages(await loadS6RcSource(dir, DEFAULTS)).join('\n'), /bundle cycle: a -> b -> a/);
    });

    it('a longrun whose run is not executable is left out, with the service-dir message', async () => {
      const dir = await source({ 'web/type': 'longrun', 'web/run': '#!/bin/sh\n', ...bundle('user', ['web']) });
      const r = await loadS6RcSource(dir, DEFAULTS);
      assert.deepEqual(r.longruns, []);
      assert.match(messages(r).join('\n'), /run is not executable: run chmod \+x/);
    });
  });
});

/** A fresh image root: `files` at paths like `s6-overlay/s6-rc.d/web/type` or `services.d/cron/run`; returns its s6-rc.d. */
async function image(files: Readonly<Record<string, Entry>>): Promise<string> {
  counter += 1;
  const etc = await writeTree(join(root, `etc${counter}`), files);
  return join(etc, 's6-overlay', 's6-rc.d');
}

/** `files` (as for `source`) moved under `prefix/`. */
const under = (prefix: string, files: Readonly<Record<string, Entry>>): Record<string, Entry> =>
  Object.fromEntries(Object.entries(files).map(([path, entry]) => [`${prefix}/${path}`, entry]));

describe('loadS6RcSource, s6-overlay\'s bundle order', () => {
  it('what only user2 wants starts after all that user wants and after the services.d services next to it', async () => {
    const dir = await image({
      ...under('s6-overlay/s6-rc.d', {
        ...longrun('db'),
        ...oneshot('init', '/bin/true\n'),
        ...longrun('web', ['db', 'init']),
        ...longrun('report', ['init']),
        ...longrun('both'),
        ...bundle('user', ['web', 'both']),
        ...bundle('user2', ['report', 'both']),
      }),
      'services.d/cron/run': RUN,
      'services.d/off/run': RUN,
      'services.d/off/down': '',
      'services.d/broken/finish': RUN,
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(messages(r), []);
    const deps = Object.fromEntries([...r.longruns, ...r.oneshots].map((s) => [s.name, s.dependencies]));
    // Only a services.d service that starts at boot is waited for: not one with down, nor one without run.
    assert.deepEqual(deps, { both: [], db: [], init: [], report: ['both', 'cron', 'db', 'init', 'web'], web: ['db', 'init'] });
  });

  it('an s6-rc dir elsewhere has no services.d next to it: user2 waits for user only', async () => {
    const dir = await source({ ...longrun('web'), ...longrun('report'), ...bundle('user', ['web']), ...bundle('user2', ['report']) });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(r.longruns.map((s) => [s.name, s.dependencies]), [['report', ['web']], ['web', []]]);
  });

  it('reads the user bundles from user-bundles.d (s6-overlay ≥ 3.2.3.1)', async () => {
    const dir = await image({
      ...under('s6-overlay/s6-rc.d', { ...longrun('web'), ...longrun('report') }),
      ...under('s6-overlay/user-bundles.d', { ...bundle('user', ['web']), ...bundle('user2', ['report']) }),
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(messages(r), []);
    assert.deepEqual(r.longruns.map((s) => [s.name, s.dependencies]), [['report', ['web']], ['web', []]]);
  });

  it('a user bundle still in s6-rc.d means user-bundles.d is not read, with a note', async () => {
    const dir = await image({
      ...under('s6-overlay/s6-rc.d', { ...longrun('web'), ...longrun('report'), ...bundle('user', ['web']) }),
      ...under('s6-overlay/user-bundles.d', bundle('user2', ['report'])),
    });
    const r = await loadS6RcSource(dir, DEFAULTS);
    assert.deepEqual(r.longruns.map((s) => s.name), ['web']);
    assert.match(r.notes.join('\n'), /user-bundles\.d is not read: the user bundle is still defined in the s6-rc\.d next to it/);
  });
});
