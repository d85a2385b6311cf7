/**
 * A service's runtime dir (`$WARDEN_RUN_DIR/service/NAME`, /run/service/NAME under s6-overlay's
 * runtime) is the dir its `run` and `finish` start in, as s6-supervise starts them in its service
 * dir: Debian's own s6-notifyoncheck works there (compared with a real s6-supervise), relative
 * paths (`./data/…`, `../other/…`) reach what they reach under s6, the image's dir can be
 * read-only and gets nothing written, and a longrun has its dir, down, while it waits for its
 * dependencies. warden runs as PID 1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, REPO_ROOT, Sandbox, sq } from './harness.js';
import { must, normalise, S6_MISSING, s6Oracle, supervised, WAIT_MS } from './s6-tools.js';

const NOTIFYONCHECK = '/usr/bin/s6-notifyoncheck';
const SHIMS = join(REPO_ROOT, 'shims');

/** Lines in a file (0 while it does not exist). */
async function lines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/**
 * `web`: s6's own s6-notifyoncheck runs the program and polls `./data/check`, which passes once
 * `./data/gate` exists and notes each try (the dir it runs in) in `./tries`, in its working dir.
 */
async function writeWeb(box: Sandbox): Promise<void> {
  await box.service('web', {
    run: `exec ${NOTIFYONCHECK} -w 50 -n 0 sleep 1000`,
    files: { 'notification-fd': '3' },
    scripts: { 'data/check': 'pwd -P >> ./tries\ntest -e ./data/gate' },
  });
}

/**
 * The same session on `root/web`, whoever supervises it: readiness only once the check passes,
 * then a stop and a start through s6-svlisten1. Returns what s6-svstat printed at each point.
 */
async function webSession(root: string): Promise<string[]> {
  const dir = join(root, 'web');
  const transcript: string[] = [];
  const record = async (label: string): Promise<void> => {
    transcript.push(`${label}: ${normalise(await must(['s6-svstat', dir]))}`);
    transcript.push(`${label} -o: ${normalise(await must(['s6-svstat', '-o', 'up,ready,normallyup,wantedup', dir]))}`);
  };
  await must(['s6-svwait', `-t${WAIT_MS}`, '-u', dir]);
  // Two failed checks, then still not ready: readiness waits for the check.
  await eventually('two failed checks', async () => (await lines(join(dir, 'tries'))).length >= 2, WAIT_MS);
  await record('checks failing');
  await writeFile(join(dir, 'data', 'gate'), '');
  await must(['s6-svwait', `-t${WAIT_MS}`, '-U', dir]);
  await record('check passed');

  await must(['s6-svlisten1', '-D', `-t${WAIT_MS}`, dir, 's6-svc', '-d', dir]);
  await record('after s6-svlisten1 -D');
  await rm(join(dir, 'data', 'gate'));
  const before = (await lines(join(dir, 'tries'))).length;
  await must(['s6-svlisten1', '-u', `-t${WAIT_MS}`, dir, 's6-svc', '-u', dir]);
  await eventually('two failed checks of the new run', async () => (await lines(join(dir, 'tries'))).length >= before + 2, WAIT_MS);
  await record('up again, checks failing');
  // s6-svlisten1 listens before it runs the program: the readiness the gate brings is not missed.
  await must(['s6-svlisten1', '-U', `-t${WAIT_MS}`, dir, 'touch', join(dir, 'data', 'gate')]);
  await record('ready again');
  return transcript;
}

test("Debian's s6-notifyoncheck makes a warden service ready when its check passes, as under s6-supervise", { timeout: 240_000, skip: S6_MISSING }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await writeWeb(box);

  const oracle = await s6Oracle(box, t, ['web']);
  const expected = await webSession(oracle.root);
  await oracle.stop();

  const warden = box.boot();
  const root = box.path('run', 'service');
  await supervised(root, ['web']);
  // The gate goes in the image's data/ (the test's doing): the runtime dir links to it.
  const got = await webSession(root);
  assert.deepEqual(got, expected);
  // Every check ran in the runtime dir; its `tries` went there too, not into the image's dir.
  const runDir = await realpath(join(root, 'web'));
  assert.deepEqual([...new Set(await lines(join(root, 'web', 'tries')))], [runDir]);
  assert.deepEqual((await readdir(join(box.servicesDir, 'web'))).sort(), ['data', 'notification-fd', 'run']);
  assert.deepEqual(warden.find((e) => e.event === 's6-supervise-files-failed'), []);
});

/**
 * An `s6-svwait -U` on `dir`, once it listens (its FIFO is in `dir/event`); `exited` resolves
 * with its exit code. Still running then: the service was not up and ready when it looked.
 * (An object: an async function returning the promise itself would wait for it.)
 */
async function svwaitUp(t: TestContext, dir: string): Promise<{ exited: Promise<number | null> }> {
  const waiter = spawn('s6-svwait', [`-t${WAIT_MS}`, '-U', dir], { stdio: 'ignore' });
  const waited = new Promise<number | null>((resolve) => waiter.once('exit', (code) => resolve(code)));
  t.after(() => waiter.kill());
  await eventually(`s6-svwait listening on ${dir}`, async () => (await readdir(join(dir, 'event'))).some((n) => n.startsWith('ftrig1:@')), WAIT_MS);
  assert.equal(waiter.exitCode, null, `s6-svwait -U ${dir} returned before the service started`);
  return { exited: waited };
}

test('a longrun waiting for its dependencies, and one held down, have their dirs, down as s6 shows them; run and finish start there; the image dir is read-only', { timeout: 240_000, skip: S6_MISSING }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const gate = box.path('gate');
  const marks = box.path('marks');
  await mkdir(marks);
  await box.service('slow', { run: `while [ ! -e ${sq(gate)} ]; do sleep 0.05; done\necho >&3\nexec sleep 1000`, files: { 'notification-fd': '3\n' } });
  await box.service('after', {
    run: [
      `pwd -P > ${sq(join(marks, 'run-pwd'))}`,
      `cat ./data/msg > ${sq(join(marks, 'msg'))}`,
      `cat ../slow/notification-fd > ${sq(join(marks, 'other'))}`,
      'echo >&3',
      'exec sleep 1000',
    ].join('\n'),
    finish: `pwd -P > ${sq(join(marks, 'finish-pwd'))}`,
    files: { 'notification-fd': '3\n', dependencies: 'slow\n', 'data/msg': 'hello\n' },
  });
  await box.service('held', { run: 'echo >&3\nexec sleep 1000', files: { 'notification-fd': '3\n', down: '' } });
  const imageEntries = (await readdir(join(box.servicesDir, 'after'))).sort();

  // The oracle for a longrun not brought up yet: s6-supervise on a copy with a down file, as
  // s6-rc gives its longruns until it brings them up.
  const oracle = await s6Oracle(box, t, ['after', 'held'], (root) => writeFile(join(root, 'after', 'down'), ''));
  const shown = async (dir: string): Promise<string[]> => [normalise(await must(['s6-svstat', dir])), await must(['s6-svstat', '-o', 'up,ready,normallyup,wantedup', dir])];
  const expected = await shown(join(oracle.root, 'after'));
  const expectedHeld = await shown(join(oracle.root, 'held'));
  await oracle.stop();

  // The image's service dirs read-only, as in an image whose /etc is.
  const services = sq(box.servicesDir);
  const warden = box.boot({ prelude: `mount --bind ${services} ${services}\nmount -o remount,bind,ro ${services}` });
  const root = box.path('run', 'service');
  const after = join(root, 'after');
  const held = join(root, 'held');
  await supervised(root, ['slow', 'after', 'held']);
  assert.deepEqual(await shown(after), expected);
  assert.deepEqual(await shown(held), expectedHeld);

  // s6-svwait -U on each waits: still waiting once it listens, it returns when the service is ready.
  const waited = await svwaitUp(t, after);
  const waitedHeld = await svwaitUp(t, held);
  assert.equal(await box.read(join(marks, 'run-pwd')), null, 'after started before slow was ready');
  await writeFile(gate, '');
  assert.equal(await waited.exited, 0);

  const runDir = await realpath(after);
  assert.equal(await box.read(join(marks, 'run-pwd')), `${runDir}\n`);
  assert.equal(await box.read(join(marks, 'msg')), 'hello\n', './data/msg is the image dir\'s');
  assert.equal(await box.read(join(marks, 'other')), '3\n', '../slow is the other service\'s runtime dir');
  assert.match(normalise(await must(['s6-svstat', after])), /^up \(pid N\) N seconds, ready N seconds$/);

  await must(['s6-svc', `-T${WAIT_MS}`, '-wD', '-d', after]);
  assert.equal(await box.read(join(marks, 'finish-pwd')), `${runDir}\n`);
  assert.deepEqual((await readdir(join(box.servicesDir, 'after'))).sort(), imageEntries, 'nothing written into the image dir');

  await must(['s6-svc', '-u', held]);
  assert.equal(await waitedHeld.exited, 0);
  assert.deepEqual(warden.find((e) => e.event === 's6-supervise-files-failed'), []);
});

test("the s6-notifyoncheck shim hands over to s6's own where it is on PATH, and stands in for it where not", { timeout: 240_000, skip: S6_MISSING }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  // A PATH without s6's programs: the shims, and the few commands the shim and the check use.
  const bare = box.path('bare-bin');
  await mkdir(bare);
  for (const name of ['sh', 'sleep', 'readlink']) await symlink(`/usr/bin/${name}`, join(bare, name));
  // The check notes which program ran it (its parent), then passes.
  const check = 'readlink /proc/$PPID/exe > ./parent';
  await box.service('withs6', { run: `PATH=${sq(`${SHIMS}:/usr/bin:/bin`)}\nexport PATH\nexec s6-notifyoncheck -w 50 -n 0 sleep 1000`, files: { 'notification-fd': '3' }, scripts: { 'data/check': check } });
  await box.service('without', { run: `PATH=${sq(`${SHIMS}:${bare}`)}\nexport PATH\nexec s6-notifyoncheck -w 50 -n 0 sleep 1000`, files: { 'notification-fd': '3' }, scripts: { 'data/check': check } });

  box.boot();
  const root = box.path('run', 'service');
  await supervised(root, ['withs6', 'without']);
  for (const name of ['withs6', 'without']) await must(['s6-svwait', `-t${WAIT_MS}`, '-U', join(root, name)]);
  assert.equal(await box.read(join(root, 'withs6', 'parent')), `${NOTIFYONCHECK}\n`, "s6's own ran the check");
  const shell = await realpath('/usr/bin/sh');
  assert.equal(await box.read(join(root, 'without', 'parent')), `${shell}\n`, "the shim's poller ran the check");
});
