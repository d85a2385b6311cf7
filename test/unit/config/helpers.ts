import { fingerprintOf } from '../../../src/config/script-fingerprint.js';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ServiceSpec } from '../../../src/core/service-spec.js';

/** A file to create: text/bytes (mode 0644), `{ content, mode }`, or `{ dir: true }` for a directory. */
export type Entry = string | Uint8Array | { readonly content: string | Uint8Array; readonly mode: number } | { readonly dir: true };

export const RUN = { content: '#!/bin/sh\nexec sleep 1000\n', mode: 0o755 } as const;

/** Creates a fresh temp dir; the returned cleanup removes it. */
export async function tempRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'warden-config-'));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Writes `files` (paths relative to `dir`, may contain "/") and returns `dir`. */
export async function writeTree(dir: string, files: Readonly<Record<string, Entry>>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [rel, entry] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    if (typeof entry === 'string' || entry instanceof Uint8Array) {
      await writeFile(path, entry);
      await chmod(path, 0o644);
    } else if ('dir' in entry) {
      await mkdir(path, { recursive: true });
    } else {
      await writeFile(path, entry.content);
      // chmod after writing: writeFile's mode is filtered by the umask.
      await chmod(path, entry.mode);
    }
  }
  return dir;
}

/** Writes a service dir with an executable `run` plus `files`. */
export async function writeService(parent: string, name: string, files: Readonly<Record<string, Entry>> = {}): Promise<string> {
  return writeTree(join(parent, name), { run: RUN, ...files });
}

/** What the loader records for a dir whose run, finish and check hold these texts. */
export function scriptsFingerprint(run: string, finish: string | null = null, check: string | null = null): string {
  return fingerprintOf([run, finish, check].map((text) => (text === null ? null : { bytes: Buffer.from(text) })));
}

export const DEFAULTS = { timeoutKillMs: 7000, logMaxBytes: 1048576, logKeep: 10 } as const;

/** The spec of a service dir holding only `run`, with DEFAULTS applied. */
export function defaultSpec(dir: string, name: string): ServiceSpec {
  return {
    name,
    dir,
    run: join(dir, 'run'),
    finish: null,
    runVia: [],
    finishVia: [],
    downAtBoot: false,
    notificationFd: null,
    timeoutKillMs: 7000,
    timeoutFinishMs: 5000,
    downSignal: 'SIGTERM',
    user: null,
    forwardSignals: [],
    listen: [],
    maxDeathTally: 100,
    env: {},
    restart: 'always',
    restartDelay: { minMs: 0, maxMs: 30000 },
    restartResetMs: 10000,
    onExit: 'restart',
    dependencies: [],
    logLimits: { maxBytes: 1048576, keep: 10 },
    scriptsFingerprint: scriptsFingerprint(RUN.content),
    notifySocket: false,
    notifyAccess: 'all',
    check: null,
  };
}

export interface ExpectedProblem {
  readonly file: string;
  readonly line: number | null;
  /** A substring the message must contain. */
  readonly includes: string;
}

/** Fails unless `problems` are exactly `expected`, in order (file and line exact, message by substring). */
export function matchProblems(
  problems: readonly { file: string; line: number | null; message: string }[],
  expected: readonly ExpectedProblem[],
): string | null {
  const show = (): string => JSON.stringify(problems, null, 2);
  if (problems.length !== expected.length) return `expected ${expected.length} problem(s), got ${show()}`;
  for (const [i, e] of expected.entries()) {
    const p = problems[i];
    if (p === undefined || p.file !== e.file || p.line !== e.line || !p.message.includes(e.includes)) {
      return `problem ${i} should be ${JSON.stringify(e)}, got ${show()}`;
    }
  }
  return null;
}
