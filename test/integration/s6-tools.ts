/**
 * Running Debian's own s6 programs from tests: s6-svc, s6-svstat, s6-svwait … on a service dir,
 * and real s6-supervise processes as the oracle warden's services are compared with.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { eventually, type Sandbox } from './harness.js';

/** The s6 programs these tests run, by Debian's paths. */
const S6_PROGRAMS = ['s6-supervise', 's6-svc', 's6-svstat', 's6-svwait', 's6-svok', 's6-svdt', 's6-svlisten1', 's6-notifyoncheck'];

/** A test's `skip`: why Debian's s6 programs cannot be run here, or false when they are installed. */
export const S6_MISSING: string | false = S6_PROGRAMS.every((name) => existsSync(`/usr/bin/${name}`))
  ? false
  : `Debian's s6 is not installed (no ${S6_PROGRAMS.filter((name) => !existsSync(`/usr/bin/${name}`)).join(', ')}; scripts/test.sh installs it)`;

/** A failing s6-svwait ends here, with its message: only a broken supervisor ever takes this long. */
export const WAIT_MS = 60_000;

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tool(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Result> {
  return new Promise((resolve) => {
    execFile(args[0]!, args.slice(1), { timeout: WAIT_MS + 10_000, env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs an s6 tool that must succeed; fails the test with its stderr otherwise. */
export async function must(args: readonly string[]): Promise<string> {
  const r = await tool(args);
  assert.equal(r.code, 0, `${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Pids, ages and TAI64N stamps differ from run to run; the rest must not. */
export function normalise(text: string): string {
  return text
    .replace(/\(pid \d+\)/g, '(pid N)')
    .replace(/\b\d+ seconds/g, 'N seconds')
    .replace(/@[0-9a-f]{24}/g, '@STAMP')
    .trimEnd();
}

/** Waits until a supervisor holds the lock of each of `names` under `root` (s6-svok), as s6-svscan's users do. */
export async function supervised(root: string, names: readonly string[]): Promise<void> {
  for (const name of names) await eventually(`a supervisor on ${name}`, async () => (await tool(['s6-svok', join(root, name)])).code === 0, WAIT_MS);
}

/** Starts one real s6-supervise per service of `root`. */
export function superviseAll(root: string, names: readonly string[]): ChildProcess[] {
  return names.map((name) => spawn('s6-supervise', [name], { cwd: root, stdio: 'ignore' }));
}

export async function stopSupervisors(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

/**
 * The oracle: Debian's s6-supervise on copies of the sandbox's service dirs `names`, in
 * `box/s6/NAME` (`prepare` changes the copies first), supervised once this resolves; `stop`
 * ends the supervisors (also done when the test ends).
 */
export async function s6Oracle(
  box: Sandbox,
  t: TestContext,
  names: readonly string[],
  prepare: (root: string) => Promise<void> = async () => undefined,
): Promise<{ root: string; stop: () => Promise<void> }> {
  const root = box.path('s6');
  await cp(box.servicesDir, root, { recursive: true });
  await prepare(root);
  const children = superviseAll(root, names);
  t.after(() => stopSupervisors(children));
  await supervised(root, names);
  return { root, stop: () => stopSupervisors(children) };
}
