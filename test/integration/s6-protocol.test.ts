/**
 * Debian's own s6 tools (s6-svc, s6-svstat, s6-svwait, s6-svok, s6-svdt) on warden's services,
 * side by side with a real s6-supervise on the same service dirs: the same commands in the same
 * order, each followed by a wait on the state it leads to (s6-svwait, so a slow machine only
 * makes it slower), must print the same things once pids and ages are normalised, and have the
 * same effect. warden runs as PID 1; its supervise files are in the sandbox's runtime dir.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, REPO_ROOT, Sandbox } from './harness.js';
import { must, normalise, S6_MISSING, s6Oracle, supervised as supervisedAll, tool, WAIT_MS } from './s6-tools.js';

const NAMES = ['note', 'plain', 'idle'];
const FIELDS = 'up,ready,normallyup,wantedup,paused,exitcode,signal,signum';

/** The service dirs both supervisors run: one with readiness notification, one without, one normally down. */
async function writeServices(box: Sandbox): Promise<void> {
  await box.service('note', { run: 'echo >&3\nexec 3>&-\nexec sleep 1000', files: { 'notification-fd': '3\n' } });
  await box.service('plain', { run: 'exec sleep 1000' });
  await box.service('idle', { run: 'exec sleep 1000', files: { down: '' } });
}

/**
 * The same session against the service dirs in `root` (NAME under it), whoever supervises them:
 * what s6-svstat, s6-svstat -o and s6-svdt print after each command and its wait.
 */
async function session(root: string): Promise<string[]> {
  const dir = (name: string): string => join(root, name);
  const transcript: string[] = [];
  const record = async (label: string, names: readonly string[] = NAMES): Promise<void> => {
    for (const name of names) {
      transcript.push(`${label} ${name}: ${normalise(await must(['s6-svstat', dir(name)]))}`);
      transcript.push(`${label} ${name} -o: ${normalise(await must(['s6-svstat', '-o', FIELDS, dir(name)]))}`);
    }
  };
  const wait = (flag: string, name: string): Promise<string> => must(['s6-svwait', `-t${WAIT_MS}`, flag, dir(name)]);

  await wait('-U', 'note');
  await wait('-u', 'plain');
  for (const name of NAMES) transcript.push(`svok ${name}: ${(await tool(['s6-svok', dir(name)])).code}`);
  await record('boot');

  await must(['s6-svc', '-d', dir('note')]);
  await wait('-D', 'note');
  await record('after -d', ['note']);

  await must(['s6-svc', '-u', dir('note')]);
  await wait('-U', 'note');
  await record('after -u', ['note']);

  // -wr: s6-svc waits (through s6-svlisten1) for the death and the restart it causes.
  await must(['s6-svc', `-T${WAIT_MS}`, '-wr', '-k', dir('plain')]);
  await record('after -k', ['plain']);

  await must(['s6-svc', `-T${WAIT_MS}`, '-wR', '-r', dir('note')]);
  await record('after -r', ['note']);

  await must(['s6-svc', '-o', dir('idle')]);
  await wait('-u', 'idle');
  await record('after -o', ['idle']);
  await must(['s6-svc', '-d', dir('idle')]);
  await wait('-D', 'idle');
  await record('after -d', ['idle']);

  // -p and -c: the paused flag follows, once the supervisor has read the command.
  const paused = async (): Promise<string> => (await must(['s6-svstat', '-o', 'paused', dir('plain')])).trim();
  await must(['s6-svc', '-p', dir('plain')]);
  await eventually('paused true', async () => (await paused()) === 'true', WAIT_MS);
  await must(['s6-svc', '-c', dir('plain')]);
  await eventually('paused false', async () => (await paused()) === 'false', WAIT_MS);
  await record('after -p -c', ['plain']);

  for (const name of NAMES) transcript.push(`svdt ${name}: ${normalise(await must(['s6-svdt', dir(name)]))}`);
  return transcript;
}

/** Waits until a supervisor holds the lock of each service of `root`. */
function supervised(root: string): Promise<void> {
  return supervisedAll(root, NAMES);
}

/**
 * The s6-svstat shim on warden's supervised dirs: with s6's own s6-svstat further on PATH it runs
 * that one (`shimmed`: no warden reachable, so its fallback could not answer); with none, warden's
 * fallback answers over the control socket with the same lines (for a service with readiness
 * notification: one without is ready for warden's fallback, never for s6).
 */
async function svstatShim(root: string, socket: string, shimmed: NodeJS.ProcessEnv): Promise<void> {
  const handed = { ...shimmed, WARDEN_SOCKET: join(root, 'no-warden-here.sock') };
  for (const args of [['plain'], ['note'], ['-o', FIELDS, 'note'], ['-o', FIELDS, 'idle']]) {
    const argv = [...args.slice(0, -1), join(root, args.at(-1)!)];
    const real = normalise(await must(['/usr/bin/s6-svstat', ...argv]));
    const shim = await tool(['s6-svstat', ...argv], handed);
    assert.equal(shim.code, 0, `the s6-svstat shim ${args.join(' ')} with s6's on PATH: ${shim.stderr}`);
    assert.equal(normalise(shim.stdout), real, `the s6-svstat shim ${args.join(' ')} prints s6's own line`);
  }
  // The telling line: s6 never calls a service without notification-fd ready; warden's fallback would.
  assert.doesNotMatch(normalise(await must(['/usr/bin/s6-svstat', join(root, 'plain')])), /ready/);

  // Without s6 on PATH (only node): warden's s6-svstat, through warden's socket.
  const bin = join(root, '..', 'node-only-bin');
  await mkdir(bin, { recursive: true });
  await symlink(process.execPath, join(bin, 'node'));
  const fallback = { ...process.env, PATH: `${join(REPO_ROOT, 'shims')}:${bin}`, WARDEN_SOCKET: socket };
  for (const args of [['note'], ['-o', FIELDS, 'note'], ['-o', FIELDS, 'idle'], ['-o', 'up,wantedup,normallyup,pid', 'plain']]) {
    const argv = [...args.slice(0, -1), join(root, args.at(-1)!)];
    const real = normalise(await must(['/usr/bin/s6-svstat', ...argv]));
    const shim = await tool(['s6-svstat', ...argv], fallback);
    assert.equal(shim.code, 0, `warden's s6-svstat ${args.join(' ')}: ${shim.stderr}`);
    assert.equal(normalise(shim.stdout), real, `warden's s6-svstat ${args.join(' ')} prints s6's line`);
  }
  const unreachable = await tool(['s6-svstat', join(root, 'note')], { ...fallback, WARDEN_SOCKET: handed.WARDEN_SOCKET });
  assert.equal(unreachable.code, 111, `warden's s6-svstat without a warden to ask: ${unreachable.stderr}`);
}

test("s6's own tools see and drive warden's services as they do s6-supervise's", { timeout: 240_000, skip: S6_MISSING }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  await writeServices(box);

  // The oracle: Debian's s6-supervise on copies of the same dirs.
  const oracle = await s6Oracle(box, t, NAMES);
  const s6Root = oracle.root;
  const expected = await session(s6Root);
  await oracle.stop();
  assert.equal((await tool(['s6-svok', join(s6Root, 'note')])).code, 1, 's6-svok says no once s6-supervise is gone');

  const warden = box.boot();
  const wardenRoot = box.path('run', 'service');
  await supervised(wardenRoot);
  const got = await session(wardenRoot);
  assert.deepEqual(got, expected);

  // warden's shims, first on PATH as warden puts them, hand a supervised dir to s6's own tools:
  // with no warden CLI to call (WARDEN_CLI=false), they still work.
  const shimmed = { ...process.env, PATH: `${join(REPO_ROOT, 'shims')}:${process.env.PATH ?? ''}`, WARDEN_CLI: 'false' };
  const note = join(wardenRoot, 'note');
  assert.equal((await tool(['s6-svc', `-T${WAIT_MS}`, '-wD', '-d', note], shimmed)).code, 0, 'the s6-svc shim on a supervised dir');
  assert.equal(normalise(await must(['s6-svstat', note])), expected.find((l) => l.startsWith('after -d note: '))!.slice('after -d note: '.length));
  assert.equal((await tool(['s6-svc', '-u', note], shimmed)).code, 0);
  assert.equal((await tool(['s6-svwait', `-t${WAIT_MS}`, '-U', note], shimmed)).code, 0, 'the s6-svwait shim on a supervised dir');
  assert.equal((await tool(['s6-svc', '-u', join(box.servicesDir, 'note')], shimmed)).code, 111, 'elsewhere the shim calls warden (here: false)');
  await svstatShim(wardenRoot, box.path('control.sock'), shimmed);

  // Supervision ends with warden: the lock goes, and s6-svok says so.
  await warden.signal('SIGTERM');
  await warden.waitForExit(WAIT_MS);
  for (const name of NAMES) assert.equal((await tool(['s6-svok', join(wardenRoot, name)])).code, 1, `s6-svok ${name} after warden exited`);
});
