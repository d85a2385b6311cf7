/**
 * The with-contenv shim against Debian's s6-envdir -Lf after emptying the environment but PATH
 * (what s6-overlay's with-contenv runs: emptyenv -p, s6-envdir -Lf) on the same container
 * environment dir: the program must get byte for byte the same environment, under dash, busybox
 * sh (a release root may have only busybox) and bash (where /bin/sh is bash). Values with
 * newlines, without a trailing newline, with trailing blanks and backslashes; an empty file
 * unsets; dot files and names with '=' are skipped; names no shell variable can have are still
 * set. The caller's own variables (one of several lines that looks like an `export` line, one
 * named like the shim's own) must all be gone. Each run is in its own mount namespace with a
 * tmpfs on /run, where the shim looks first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, Sandbox, sq } from './harness.js';

const SHIM = join(REPO_ROOT, 'shims/with-contenv');

const FILES: Readonly<Record<string, string>> = {
  PLAIN: 'plain\n',
  NO_NEWLINE: 'no newline at the end',
  TWO_LINES: 'two\nlines\n',
  BLANK_LINE_KEPT: 'keep one\n\n',
  ONLY_NEWLINE: '\n',
  EMPTY_UNSETS: '',
  BLANKS: '  spaces and a tab\t \n',
  BACKSLASHES: 'a\\b\\nc\\\n',
  MIDDLE: 'mid\n\nx',
  SHELL_CHARS: '$HOME `id` "q" \'s\' * ?\n',
  PATH: '/usr/bin:/bin\n',
  'NOT-A-SHELL-NAME': 'dash\n',
  '1ST': 'digit first\n',
  '.hidden': 'skipped\n',
};

/** The caller's environment beside PATH: none of it may reach the program. */
const CALLER = [
  'CALLER_ONLY=caller',
  "CALLER_LINES=one\nexport INJECTED=1\n'quoted'",
  'dir=/not/the/env/dir',
  'PLAIN=the caller, not the file',
]
  .map(sq)
  .join(' ');

/** `env -0` of PROG run by `runner` in a namespace where /run/s6/container_environment is `dir`, sorted. */
function environment(dir: string, runner: string): Promise<string[]> {
  const script = [
    'mount -t tmpfs tmpfs /run',
    'mkdir -p /run/s6',
    `cp -a ${sq(dir)} /run/s6/container_environment`,
    `exec env -i PATH=/usr/bin:/bin ${CALLER} ${runner} env -0`,
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile('unshare', ['--mount', 'sh', '-c', script], { encoding: 'buffer', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${runner}: ${err.message}\n${stderr.toString()}`));
      else resolve(stdout.toString('latin1').split('\0').filter((v) => v !== '').sort());
    });
  });
}

test('with-contenv gives the program the environment emptyenv -p s6-envdir -Lf gives it, byte for byte, under dash, busybox sh and bash', { timeout: 120_000 }, async (t) => {
  const box = await Sandbox.create();
  t.after(() => box.cleanup());
  const dir = box.path('container_environment');
  await mkdir(dir);
  for (const [name, value] of Object.entries(FILES)) await writeFile(join(dir, name), value);
  await writeFile(join(dir, 'A=B'), 'skipped\n');
  for (let i = 0; i < 100; i++) await writeFile(join(dir, `VAR_${i}`), `value ${i}\n`);

  // env -i PATH=…: execline's emptyenv -p, which Debian keeps off PATH.
  const expected = await environment(dir, 'env -i PATH=/usr/bin:/bin s6-envdir -Lf /run/s6/container_environment');
  // The reference itself shows the cases: kept newlines, no chomp of blanks, unset, skipped.
  assert.ok(expected.includes('TWO_LINES=two\nlines'));
  assert.ok(expected.includes('NO_NEWLINE=no newline at the end'));
  assert.ok(expected.includes('BLANK_LINE_KEPT=keep one\n'));
  assert.ok(expected.includes('ONLY_NEWLINE='));
  assert.ok(!expected.some((v) => v.startsWith('EMPTY_UNSETS=') || v.startsWith('.hidden') || v.startsWith('A=B')));
  assert.equal(expected.filter((v) => v.startsWith('VAR_')).length, 100);
  assert.ok(expected.includes('NOT-A-SHELL-NAME=dash') && expected.includes('1ST=digit first'));
  assert.ok(expected.includes('PLAIN=plain') && !expected.some((v) => /^(CALLER|INJECTED|dir=)/.test(v)));

  for (const sh of ['dash', 'bash', ...(existsSync('/usr/bin/busybox') || existsSync('/bin/busybox') ? ['busybox sh'] : [])]) {
    assert.deepEqual(await environment(dir, `${sh} ${sq(SHIM)}`), expected, `with-contenv under ${sh}`);
  }
});
