/**
 * Signals and terminals, as tini and dumb-init handle them: every catchable signal sent to
 * warden (as PID 1 and as a sub-init) is handled by the table in core/signal-table.ts, warden
 * never dies of one and never leaves CMD behind; CMD runs in its own process group, in the
 * terminal's foreground, so Ctrl-C reaches CMD alone.
 *
 * Every wait is on something observed (a line written, an event logged), never on a clock.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { isForwarded, SIGNAL_TABLE } from '../../src/core/signal-table.js';
import { sendSignal } from '../../src/adapters/signals.js';
import { eventually, Sandbox, sq, type Warden } from './harness.js';
import { FAULT_FLOOD_PER_SECOND } from '../../src/daemon/signal-router.js';

async function sandbox(t: TestContext): Promise<Sandbox> {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  return box;
}

/** Every signal warden passes on (HUP too, by default with a CMD). */
const FORWARDED = SIGNAL_TABLE.filter((e) => isForwarded(e.role) || e.role === 'hup');

/** A CMD that appends the number of every signal in `signals` it gets to `file`. */
function recorder(file: string, ready: string, signals: readonly number[]): string[] {
  const traps = signals.map((n) => `trap 'echo ${n} >> ${sq(file)}' ${n}`).join('; ');
  return ['sh', '-c', `${traps}; echo $$ > ${sq(ready)}; while :; do sleep 0.05; done`];
}

/** SIGKILLs `pid` if it still is the recorder that writes `ready` (its pid may be another's by now). */
function killIfRecorder(pid: number, ready: string): void {
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (cmdline.includes(ready)) sendSignal(pid, 'SIGKILL');
}

function lines(text: string | null): string[] {
  return (text ?? '').split('\n').filter((l) => l !== '');
}

function stateOf(hostPid: number): string {
  const stat = readFileSync(`/proc/${hostPid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function everySignalForwarded(box: Sandbox, warden: Warden, got: string): Promise<void> {
  const host = await warden.hostPid();
  for (const entry of FORWARDED) {
    process.kill(host, entry.number);
    await eventually(`CMD to get ${entry.name}`, async () => lines(await box.read(got)).includes(String(entry.number)), 15_000);
    assert.notEqual(stateOf(host), 'T', `warden stopped itself on ${entry.name}`);
  }
  // The C library's own two: nothing to forward, but they must not kill warden either.
  for (const n of [32, 33]) process.kill(host, n);
  // USR1 once more: answered only if warden lived through 32 and 33.
  const before = lines(await box.read(got)).length;
  process.kill(host, 'SIGUSR1');
  await eventually('CMD to get SIGUSR1 after signals 32 and 33', async () => lines(await box.read(got)).length > before, 15_000);
  assert.deepEqual(new Set(lines(await box.read(got))), new Set(FORWARDED.map((e) => String(e.number))));
  assert.equal(warden.find((e) => e.event === 'shutdown').length, 0, warden.tail());
}

for (const mode of ['PID 1', 'sub-init'] as const) {
  const subInit = mode === 'sub-init';

  test(`${mode}: every catchable signal but TERM, INT, QUIT and PWR reaches CMD, warden survives them all and 32 and 33; PWR then exits 0 with CMD gone`, { timeout: 180_000 }, async (t) => {
    const box = await sandbox(t);
    const got = box.path('got');
    const ready = box.path('cmd-ready');
    const warden = box.boot({ subInit, cmd: recorder(got, ready, FORWARDED.map((e) => e.number)) });
    await eventually('CMD to set its traps', async () => (await box.read(ready)) !== null, 30_000);
    const cmd = await warden.waitForEvent((e) => e.event === 'cmd-started', 30_000, 'cmd-started');

    await everySignalForwarded(box, warden, got);

    await warden.signal('SIGPWR');
    assert.equal((await warden.waitForExit(30_000)).code, 0, warden.tail());
    // As a sub-init CMD's pid is a host pid: it must be gone, not re-parented and running on.
    if (subInit) assert.equal(alive(cmd.pid!), false, `CMD (pid ${cmd.pid}) outlived warden`);
  });

  test(`${mode}: CMD gets Ctrl-C from the terminal alone, in its own foreground process group; warden runs on and takes the terminal back`, { timeout: 120_000 }, async (t) => {
    const box = await sandbox(t);
    const after = box.path('after');
    // pgrp is field 5 of /proc/PID/stat, the terminal's foreground group (tpgid) field 8.
    const groups = `awk '{print $5, $8}' /proc/$$/stat`;
    await box.script(`cont-finish.d/check`, `awk '{print $5, $8}' /proc/$$/stat > ${sq(after)}`);
    // dash runs a trap between commands, not inside a read: wait for Ctrl-C in a loop, then read.
    const gotInt = box.path('got-int');
    const cmd = [
      'sh',
      '-c',
      `trap 'echo CMD-GOT-INT; : > ${sq(gotInt)}' INT; echo "CMD-GROUPS $$ $(${groups})"; ` +
        `while [ ! -e ${sq(gotInt)} ]; do sleep 0.05; done; read line; echo "CMD-READ $line"; exit 5`,
    ];
    const warden = box.boot({ subInit, terminal: true, cmd, env: { WARDEN_LOG_FORMAT: 'json' } });
    const seen = (prefix: string): Promise<string> =>
      eventually(`CMD to print ${prefix}`, () => warden.otherOutput.find((l) => l.includes(prefix)), 30_000).catch((err: Error) => {
        throw new Error(`${err.message}; ${warden.tail()}`);
      });

    const [pid, pgrp, tpgid] = (await seen('CMD-GROUPS ')).split('CMD-GROUPS ')[1]!.split(' ').map(Number);
    assert.equal(pgrp, pid, 'CMD leads a process group of its own');
    assert.equal(tpgid, pgrp, "CMD's group is the terminal's foreground group");

    warden.type('\x03');
    await seen('CMD-GOT-INT');
    warden.type('hello\n');
    await seen('CMD-READ hello');
    assert.equal((await warden.waitForExit(30_000)).code, 5, warden.tail());
    assert.equal(warden.find((e) => e.event === 'shutdown' && e.reason === 'signal').length, 0, 'Ctrl-C shut warden down');
    const [finishGroup, finishForeground] = lines(await box.read(after))[0]!.split(' ').map(Number);
    assert.equal(finishForeground, finishGroup, "after CMD, warden's own group holds the terminal again");
  });
}

/** The fault signals, which warden forwards when they are sent with kill. */
const FAULTS = SIGNAL_TABLE.filter((e) => e.role === 'fault');
/** Deliveries of one fault signal warden must handle while a flood goes on: some land in between. */
const FLOOD_DELIVERIES = 5;

/**
 * A shell that sends `signal` to `pid` in bursts until stopped: FLOOD_BURST kills back to back,
 * then a pause of at least FLOOD_PAUSE_MS. It never sends FAULT_FLOOD_PER_SECOND in a second,
 * however fast the machine: more than that is how warden tells a faulting thread of its own
 * from `kill` (signal-router.ts), and ends with the fault's default action.
 */
function flood(pid: number, signal: number): ChildProcess {
  const pause = (FLOOD_PAUSE_MS / 1000).toFixed(3);
  const burst = Array.from({ length: FLOOD_BURST }, () => `kill -${signal} ${pid} 2>/dev/null`).join(' && ');
  return spawn('sh', ['-c', `while ${burst}; do sleep ${pause}; done`], { stdio: 'ignore' });
}
const FLOOD_BURST = 10;
const FLOOD_PAUSE_MS = 20;
assert.ok((FLOOD_BURST * 1000) / FLOOD_PAUSE_MS < FAULT_FLOOD_PER_SECOND, 'the test floods below the fault threshold');

for (const mode of ['PID 1', 'sub-init'] as const) {
  test(`${mode}: a flood of kill with each fault signal reaches CMD and never ends warden`, { timeout: 180_000 }, async (t) => {
    const box = await sandbox(t);
    const got = box.path('got');
    const ready = box.path('cmd-ready');
    const warden = box.boot({ subInit: mode === 'sub-init', cmd: recorder(got, ready, [...FAULTS.map((e) => e.number), 10]) });
    await eventually('CMD to set its traps', async () => (await box.read(ready)) !== null, 30_000);
    const cmd = await warden.waitForEvent((e) => e.event === 'cmd-started', 30_000, 'cmd-started');
    // A sub-init that dies leaves CMD behind, with no one to kill it but the test.
    t.after(() => killIfRecorder(cmd.pid!, ready));
    const host = await warden.hostPid();
    for (const entry of FAULTS) {
      const flooder = flood(host, entry.number);
      t.after(() => flooder.kill('SIGKILL'));
      // Several deliveries handled one after the other, each with the next kill already on its way.
      const handled = (): number => warden.find((e) => e.event === 'signal' && e.signal === entry.name).length;
      await eventually(`warden to handle ${FLOOD_DELIVERIES} × ${entry.name}`, () => warden.exited || handled() >= FLOOD_DELIVERIES, 60_000);
      flooder.kill('SIGKILL');
      assert.equal(warden.exited, false, `warden ended in a flood of ${entry.name}: ${warden.tail()}`);
      await eventually(`CMD to get ${entry.name}`, async () => lines(await box.read(got)).includes(String(entry.number)), 30_000);
    }
    // USR1 once more: answered only if warden lived through every flood.
    process.kill(host, 'SIGUSR1');
    await eventually('CMD to get SIGUSR1 after the floods', async () => warden.exited || lines(await box.read(got)).includes('10'), 30_000);
    assert.equal(warden.exited, false, `warden ended after the floods: ${warden.tail()}`);
    await warden.signal('SIGPWR');
    assert.equal((await warden.waitForExit(30_000)).code, 0, warden.tail());
    if (mode === 'sub-init') assert.equal(alive(cmd.pid!), false, `CMD (pid ${cmd.pid}) outlived warden`);
  });

  // CMD is grep itself, reading its own status: the mask it was exec'd with, no shell between.
  // (A shell that forks would show its own mask: dash blocks every signal around its vfork, and
  // a child reading /proc/PARENT/status in that instant sees them all blocked.)
  test(`${mode}: CMD starts with no signal blocked or ignored, though warden blocks TTIN/TTOU and ignores PIPE`, { timeout: 60_000 }, async (t) => {
    const box = await sandbox(t);
    const warden = box.boot({ subInit: mode === 'sub-init', cmd: ['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status'] });
    assert.equal((await warden.waitForExit(30_000)).code, 0, warden.tail());
    // The exit can be seen before the last of warden's stdout is read: wait for both lines.
    const said = await eventually('the two lines CMD prints', () => {
      const found = warden.otherOutput.filter((l) => l.startsWith('Sig'));
      return found.length === 2 ? found : undefined;
    }, 30_000);
    const masks = Object.fromEntries(said.map((l) => l.split(/:\s+/) as [string, string]));
    assert.deepEqual(masks, { SigBlk: '0000000000000000', SigIgn: '0000000000000000' }, warden.tail());
  });
}

/**
 * Makes thread `thread` (gdb's numbering: 1 is the main thread) of `pid` jump to address 0, as
 * a bug would: a real SIGSEGV raised by the kernel, not one sent with kill.
 */
function faultThread(pid: number, thread: number): void {
  const run = spawnSync('gdb', ['-nx', '-batch', '-p', String(pid), '-ex', `thread ${thread}`, '-ex', 'set $pc = 0', '-ex', 'detach'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `gdb (the test needs it): ${run.error?.message ?? ''} ${run.stderr}`);
}

for (const [where, thread] of [['its main thread', 1], ['another of its threads', 2]] as const) {
  test(`sub-init: a real fault in ${where} still ends warden with SIGSEGV, handler or not`, { timeout: 180_000 }, async (t) => {
    const box = await sandbox(t);
    const ready = box.path('cmd-ready');
    const warden = box.boot({ subInit: true, cmd: recorder(box.path('got'), ready, [11]) });
    await eventually('CMD to set its traps', async () => (await box.read(ready)) !== null, 30_000);
    // A sub-init that dies leaves CMD behind, with no one to kill it but the test.
    const cmd = await warden.waitForEvent((e) => e.event === 'cmd-started', 30_000, 'cmd-started');
    t.after(() => killIfRecorder(cmd.pid!, ready));
    // The fault handlers are in place once warden has forwarded a SIGSEGV sent with kill.
    await warden.signal('SIGSEGV');
    await warden.waitForEvent((e) => e.event === 'signal' && e.signal === 'SIGSEGV', 30_000, 'SIGSEGV forwarded');
    faultThread(await warden.hostPid(), thread);
    assert.deepEqual(await warden.waitForExit(60_000), { code: null, signal: 'SIGSEGV' }, warden.tail());
  });
}

test('PID 1: HUP is forwarded to CMD by default, and rescans with WARDEN_HUP=rescan', { timeout: 90_000 }, async (t) => {
  const box = await sandbox(t);
  for (const hup of ['', 'rescan']) {
    const got = box.path(`got-${hup || 'default'}`);
    const ready = box.path(`ready-${hup || 'default'}`);
    const warden = box.boot({ env: { WARDEN_HUP: hup, WARDEN_SOCKET: box.path(`sock-${hup || 'default'}`) }, cmd: recorder(got, ready, [1, 10]) });
    await eventually('CMD to set its traps', async () => (await box.read(ready)) !== null, 30_000);
    const said = await warden.waitForEvent((e) => e.event === 'hup', 30_000, 'the hup choice at boot');
    assert.equal(said.action, hup === 'rescan' ? 'rescan' : 'forward');
    await warden.signal('SIGHUP');
    if (hup === 'rescan') await warden.waitForEvent((e) => e.event === 'signal' && e.msg === 'rescan', 30_000, 'the rescan');
    // USR1 after HUP: once CMD has it, a forwarded HUP would have been handled too.
    await warden.signal('SIGUSR1');
    await eventually('CMD to get USR1', async () => lines(await box.read(got)).includes('10'), 30_000);
    assert.equal(lines(await box.read(got)).includes('1'), hup !== 'rescan', `HUP with WARDEN_HUP=${hup}`);
    await warden.signal('SIGTERM');
    await warden.waitForExit(30_000);
  }
});

test('PID 1: a service with forward-signals gets the signals PID 1 forwards; one without does not', { timeout: 90_000 }, async (t) => {
  const box = await sandbox(t);
  const trapping = (name: string): string =>
    `trap 'echo USR1 >> ${sq(box.path(name))}' USR1; trap 'echo USR2 >> ${sq(box.path(name))}' USR2; echo up > ${sq(box.path(`${name}-up`))}; while :; do sleep 0.05; done`;
  await box.service('asks', { run: trapping('asks'), files: { 'forward-signals': 'USR1\n' } });
  await box.service('all', { run: trapping('all'), files: { 'forward-signals': '' } });
  await box.service('quiet', { run: trapping('quiet') });
  const warden = box.boot();
  for (const name of ['asks', 'all', 'quiet']) await eventually(`${name} to set its traps`, async () => (await box.read(`${name}-up`)) !== null, 30_000);
  await warden.signal('SIGUSR2');
  await eventually('all to get USR2', async () => lines(await box.read('all')).includes('USR2'), 30_000);
  await warden.signal('SIGUSR1');
  await eventually('asks to get USR1', async () => lines(await box.read('asks')).includes('USR1'), 30_000);
  await eventually('all to get USR1', async () => lines(await box.read('all')).includes('USR1'), 30_000);
  assert.deepEqual(lines(await box.read('asks')), ['USR1'], 'asks named USR1 only');
  assert.equal(await box.read('quiet'), null, 'a service without forward-signals gets nothing');
  await warden.signal('SIGTERM');
  assert.equal((await warden.waitForExit(30_000)).code, 0, warden.tail());
});
