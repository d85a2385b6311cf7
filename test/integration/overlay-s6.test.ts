/**
 * The corpus (test/fixtures/overlay/TREE/etc) under warden and under s6 itself. s6-overlay's
 * stage 2 (cont-init.d, s6-rc's oneshots and dependency order) needs s6-rc and s6-linux-init,
 * which Debian does not package; what it finally supervises is plain s6: an s6-svscan on a scan
 * dir holding each longrun (services.d/NAME, s6-rc.d/NAME of type longrun). Debian's s6 runs
 * that part, so for each tree both inits boot the same longrun dirs, each as PID 1 of its own
 * namespaces with the tree on /etc, and the test compares what a user sees:
 *   - which longruns come up, and which are ready before the gate opens (a program not ready
 *     until the test says so: notification-fd, s6-notifyoncheck) and after — seen through
 *     `s6-svwait -u/-U` and `warden wait --up/--ready`;
 *   - the processes running (argv), the supervisor's own left out, and which services run;
 *   - s6-svstat's line for each service (Debian's, or warden's shim), numbers masked, and
 *     `s6-svwait -o -D` / `-a -D` on the services down and up after the kills;
 *   - after SIGKILL to every service: the finish scripts' argv, and which services come back
 *     (exit 125 from finish: not);
 *   - then `s6-svc -wD -d` and `s6-svc -wu -u` on each service up (Debian's, or warden's shim):
 *     exit codes, s6-svstat's line while down, the finish scripts' argv (down-signal);
 *   - after SIGTERM to PID 1: the finish scripts' argv (down-signal) and PID 1's exit code;
 *   - the marks the longruns' scripts leave (starts, readiness), as a multiset per phase.
 * What is not compared, because s6 alone does not do it: cont-init.d, oneshots, the order
 * dependencies impose, cont-finish.d (test/integration/overlay.test.ts checks those against
 * s6-overlay's documented behaviour). The last test boots warden on a changed copy of a tree
 * to show that a difference fails the comparison. SHOW_OBSERVATIONS=1 prints what both did.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sandbox } from './harness.js';
import { corpusTrees, imagePrelude, marks, overlayBox, treeEtc } from './overlay-box.js';
import { namespaceCommands, PATIENCE_MS, s6Subject, wardenSubject, type Longrun, type Subject } from './overlay-subjects.js';

/** Both inits' scenarios, each of whose waits may take PATIENCE_MS on a loaded machine. */
const TEST_MS = 900_000;

/** The longruns of a tree's etc dir: services.d's dirs and s6-rc.d's dirs of type longrun. */
async function longrunsOf(etc: string): Promise<Longrun[]> {
  const found: Longrun[] = [];
  const list = async (dir: string): Promise<string[]> => (existsSync(dir) ? (await readdir(dir)).sort() : []);
  for (const name of await list(join(etc, 'services.d'))) found.push({ name, dir: join(etc, 'services.d', name) });
  const rc = join(etc, 's6-overlay/s6-rc.d');
  for (const name of await list(rc)) {
    const type = await readFile(join(rc, name, 'type'), 'utf8').catch(() => '');
    if (type.trim() === 'longrun') found.push({ name, dir: join(rc, name) });
  }
  return found;
}

type PerService = Record<string, boolean>;

interface Observation {
  readonly up: PerService;
  /** Services with notification-fd: ready before the test opens the gate, and after. */
  readonly readyBeforeGate: PerService;
  readonly readyAfterGate: PerService;
  /** Services without notification-fd: "ready" within 1.5 s of being up (see knownDifferences). */
  readonly readyWithoutNotification: PerService;
  readonly running: PerService;
  /** s6-svstat's line for each longrun, numbers masked: once all are ready, and after the kills. */
  readonly svstat: Readonly<Record<string, string>>;
  readonly svstatAfterKill: Readonly<Record<string, string>>;
  /** After the kills, `s6-svwait -o -D` and `-a -D` on the longruns down and up (null: none down or none up). */
  readonly svwaitAnyDown: boolean | null;
  readonly svwaitAllDown: boolean | null;
  readonly processes: readonly string[];
  readonly bootMarks: readonly string[];
  readonly killMarks: readonly string[];
  readonly restartedAfterKill: PerService;
  /** Then for each service up: `s6-svc -wD -d` (its exit code, s6-svstat's line after) and `s6-svc -wu -u`. */
  readonly svc: Readonly<Record<string, string>>;
  readonly svcMarks: readonly string[];
  readonly stopMarks: readonly string[];
  readonly exitCode: number | null;
}

async function perService(names: readonly string[], ask: (name: string) => Promise<boolean>): Promise<PerService> {
  const answers = await Promise.all(names.map(ask));
  return Object.fromEntries(names.map((n, i) => [n, answers[i]!]));
}

/**
 * The marks of the longruns' scripts (`NAME-start`, `NAME-ready`, `NAME-finish ARGS`), sorted:
 * starts and readiness by their first word (a start mark may show variables cont-init.d set,
 * which only warden runs), finish marks whole: exit code, signal and, from both (as s6 since
 * 2.10), the service dir's name.
 */
function longrunMarks(list: readonly { what: string }[]): string[] {
  return list
    .map((m) => m.what.split(' '))
    .filter(([first]) => /-(start|ready|finish)$/.test(first!) && !first!.startsWith('cont-'))
    .map(([first, ...args]) => (first!.endsWith('-finish') ? [first, ...args].join(' ') : first!))
    .sort();
}

/** Runs the whole scenario on one init; `box` holds the marks its scripts leave. */
async function observe(subject: Subject, longruns: readonly Longrun[], box: Sandbox): Promise<Observation> {
  const names = longruns.map((l) => l.name);
  const wanted = longruns.filter((l) => !existsSync(join(l.dir, 'down')));
  const notified = wanted.filter((l) => existsSync(join(l.dir, 'notification-fd'))).map((l) => l.name);
  const unnotified = wanted.filter((l) => !notified.includes(l.name)).map((l) => l.name);
  await subject.reachable(names);
  const up = await perService(wanted.map((l) => l.name), (n) => subject.waitFor(n, 'up', PATIENCE_MS));
  // Up but not ready yet stays so while the gate is shut: 1.5 s is long for anything else.
  const readyBeforeGate = await perService(notified, (n) => subject.waitFor(n, 'ready', 1500));
  const readyWithoutNotification = await perService(unnotified, (n) => subject.waitFor(n, 'ready', 1500));
  await writeFile(box.path('marks/gate'), '');
  const readyAfterGate = await perService(notified, (n) => subject.waitFor(n, 'ready', PATIENCE_MS));
  const before = await perService(names, async (n) => (await subject.state(n)).pid !== null);
  const init = await subject.initPid();
  const commands = (await namespaceCommands(init)).filter((c) => c.nsPid !== 1 && basename(c.argv[0] ?? '') !== 's6-supervise');
  const processes = commands.map((c) => c.argv.join(' ')).sort();
  const svstats = async (): Promise<Record<string, string>> => {
    const lines = await Promise.all(names.map((n) => subject.svstat(n)));
    return Object.fromEntries(names.map((n, i) => [n, lines[i]!.trim().replace(/\d+/g, 'N')]));
  };
  const svstat = await svstats();
  let seen = 0;
  const phaseMarks = async (): Promise<string[]> => {
    const all = await marks(box);
    const phase = all.slice(seen);
    seen = all.length;
    return longrunMarks(phase);
  };
  const bootMarks = await phaseMarks();

  const pids = new Map<string, number>();
  for (const { name: n } of wanted) {
    const pid = (await subject.state(n)).pid;
    if (pid !== null) pids.set(n, pid);
  }
  for (const pid of pids.values()) {
    const target = commands.find((c) => c.nsPid === pid);
    assert.ok(target, `${subject.label}: no process with pid ${pid} in the namespace`);
    process.kill(target.hostPid, 'SIGKILL');
  }
  const programs = new Map([...pids].map(([n, pid]) => [n, commands.find((c) => c.nsPid === pid)!.argv.join(' ')]));
  const argvOf = async (pid: number): Promise<string | undefined> =>
    (await namespaceCommands(init)).find((c) => c.nsPid === pid)?.argv.join(' ');
  /**
   * Back when a new process runs the same program again (its run script is done, its marks
   * written), ready if it notifies; not back once the supervisor no longer wants it up (its
   * finish exited 125). No time limit but the test's: on a busy machine a restart through
   * with-contenv scripts takes what it takes, and the supervisor's state says which way it went.
   */
  const comesBack = async (n: string, old: number | null): Promise<boolean> => {
    for (;;) {
      const now = await subject.state(n);
      if (now.pid !== null && now.pid !== old && (now.ready || !notified.includes(n)) && (await argvOf(now.pid)) === programs.get(n)) return true;
      if (now.pid === null && !now.wantedUp) return false;
      await sleep(100);
    }
  };
  const restartedAfterKill = await perService([...pids.keys()], (n) => comesBack(n, pids.get(n)!));
  const killMarks = await phaseMarks();
  const svstatAfterKill = await svstats();
  const after = await perService(names, async (n) => (await subject.state(n)).pid !== null);
  const downs = names.filter((n) => !after[n]);
  const ups = names.filter((n) => after[n]);
  const both = downs.length > 0 && ups.length > 0;
  const svwaitAnyDown = both ? await subject.svwait(['-o', '-D'], [...downs, ...ups], 1500) : null;
  const svwaitAllDown = both ? await subject.svwait(['-a', '-D'], [...downs, ...ups], 1500) : null;
  const svc: Record<string, string> = {};
  for (const n of ups) {
    const pid = (await subject.state(n)).pid;
    const down = await subject.svc(['-wD', '-d'], n, PATIENCE_MS);
    const line = (await subject.svstat(n)).trim().replace(/\d+/g, 'N');
    const up = await subject.svc(['-wu', '-u'], n, PATIENCE_MS);
    svc[n] = `-wD -d: ${down}, then ${line}; -wu -u: ${up}, back: ${await comesBack(n, pid)}`;
  }
  const svcMarks = await phaseMarks();
  const exitCode = await subject.terminate(PATIENCE_MS);
  const stopMarks = await phaseMarks();
  return {
    up,
    readyBeforeGate,
    readyAfterGate,
    readyWithoutNotification,
    running: before,
    svstat,
    svstatAfterKill,
    svwaitAnyDown,
    svwaitAllDown,
    processes,
    bootMarks,
    killMarks,
    restartedAfterKill,
    svc,
    svcMarks,
    stopMarks,
    exitCode,
  };
}

/** The container environment both inits give with-contenv scripts (warden: its own env). */
function containerEnv(box: Sandbox): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', MARK_DIR: box.path('marks'), APP_NAME: 'demo' };
}

async function underS6(t: TestContext, etc: string): Promise<Observation> {
  const box = await Sandbox.create();
  // Only with-contenv comes from warden: s6-svc, s6-svwait … are Debian's, talking to s6-supervise.
  const prelude = await imagePrelude(box.path('bin'), etc, ['with-contenv']);
  await mkdir(box.path('marks'));
  const s6 = await s6Subject(box, await longrunsOf(etc), prelude, containerEnv(box));
  t.after(async () => {
    await s6.kill();
    await box.cleanup();
  });
  return observe(s6, await longrunsOf(etc), box);
}

/** warden on `etc` (the tree's, or a changed copy); the services are classified as in the tree. */
async function underWarden(t: TestContext, tree: string, etc = treeEtc(tree)): Promise<Observation> {
  const { box, boot } = await overlayBox(t, tree, etc);
  const socket = box.path('control.sock');
  const warden = boot({ env: containerEnv(box) });
  return observe(wardenSubject(warden, socket), await longrunsOf(treeEtc(tree)), box);
}

/**
 * Fails, field by field, where warden's observation differs from s6's. One difference is by
 * design and checked as such: s6-supervise reports readiness only through notification-fd, so
 * `s6-svwait -U` on a longrun without one never returns (s6-rc, and so s6-overlay, waits only
 * for it to be up); warden counts such a service ready as soon as it runs.
 */
function assertSame(warden: Observation, s6: Observation, tree: string): void {
  const names = Object.keys(s6.readyWithoutNotification);
  // The same difference in s6-svstat's line: warden's shim adds readiness to such a service that is up.
  const svstatOfWarden = (lines: Readonly<Record<string, string>>): Record<string, string> =>
    Object.fromEntries(Object.entries(lines).map(([n, line]) => [n, names.includes(n) && line.startsWith('up ') ? `${line}, ready N seconds` : line]));
  const expected: Observation = { ...s6, svstat: svstatOfWarden(s6.svstat), svstatAfterKill: svstatOfWarden(s6.svstatAfterKill) };
  for (const key of Object.keys(s6) as (keyof Observation)[]) {
    if (key === 'readyWithoutNotification') continue;
    assert.deepEqual(warden[key], expected[key], `${tree}: ${key} differs between warden (actual) and s6 (expected)`);
  }
  assert.deepEqual(s6.readyWithoutNotification, Object.fromEntries(names.map((n) => [n, false])), `${tree}: s6 reported readiness without notification-fd`);
  assert.deepEqual(warden.readyWithoutNotification, Object.fromEntries(names.map((n) => [n, true])), `${tree}: warden did not count a running service without notification-fd as ready`);
}

const observedUnderS6 = new Map<string, Observation>();

for (const tree of await corpusTrees()) {
  test(`corpus tree ${tree}: its longruns behave under warden as under s6-svscan`, { timeout: TEST_MS }, async (t) => {
    const s6 = await underS6(t, treeEtc(tree));
    observedUnderS6.set(tree, s6);
    // The scenario must have had something to compare: services up, processes, finish scripts.
    assert.ok(Object.values(s6.up).some(Boolean), `${tree}: nothing came up under s6: ${JSON.stringify(s6)}`);
    assert.ok(s6.processes.length > 0, `${tree}: no processes under s6`);
    const warden = await underWarden(t, tree);
    if (process.env.SHOW_OBSERVATIONS) console.log(JSON.stringify({ s6, warden }, null, 1));
    assertSame(warden, s6, tree);
  });
}

test('the comparison fails on a difference: warden on mariadb without notification-fd and the finish\'s 125', { timeout: TEST_MS }, async (t) => {
  const s6 = observedUnderS6.get('mariadb');
  assert.ok(s6, 'the mariadb comparison must run first');
  const copy = await Sandbox.create();
  t.after(() => copy.cleanup());
  const etc = copy.path('etc');
  await cp(treeEtc('mariadb'), etc, { recursive: true });
  const rc = join(etc, 's6-overlay/s6-rc.d');
  await rm(join(rc, 'svc-mariadb/notification-fd'));
  await writeFile(join(rc, 'svc-backup/finish'), '#!/bin/sh\n/etc/s6-overlay/scripts/record "backup-finish $# $*"\n');
  const warden = await underWarden(t, 'mariadb', etc);
  // svc-mariadb is ready as soon as it runs; svc-backup comes back after the kill.
  assert.deepEqual([s6.readyBeforeGate['svc-mariadb'], warden.readyBeforeGate['svc-mariadb']], [false, true]);
  assert.deepEqual([s6.restartedAfterKill['svc-backup'], warden.restartedAfterKill['svc-backup']], [false, true]);
  assert.throws(() => assertSame(warden, s6, 'mariadb (changed)'), /readyBeforeGate differs/);
  assert.throws(() => assertSame({ ...warden, readyBeforeGate: s6.readyBeforeGate }, s6, 'mariadb (changed)'), /differs/);
});
