/** Checks a rendered config with HAProxy itself (`haproxy -c`) before anything uses it. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';

/** HAProxy rejected a config: `output` is what `haproxy -c` printed. */
export class ConfigRejected extends Error {
  override readonly name = 'ConfigRejected';
  constructor(
    readonly file: string,
    readonly output: string,
  ) {
    super(`haproxy -c rejected ${file}: ${output.trim().split('\n').filter((l) => /ALERT|error/i.test(l)).join(' | ') || output.trim()}`);
  }
}

/** The haproxy binary: `HAPROXY_BIN`, else `haproxy` (Debian puts it in /usr/sbin). */
export function haproxyBin(env: Readonly<Record<string, string | undefined>>): string {
  return env.HAPROXY_BIN || 'haproxy';
}

/**
 * The config as `haproxy -c` can judge it outside the haproxy service. `haproxy -c` opens every
 * `bind fd@N` to see that fd N is a socket; those fds are the sockets warden holds for the
 * haproxy service and passes to its runs only, not to the Serf handler that checks a new render.
 * So the check reads each `fd@N` as an abstract unix socket name, which `-c` parses and never
 * binds; every other line, and every line number, stays as it is.
 */
export function checkableConfig(text: string): string {
  return text.replace(/^(\s*bind\s+)fd@(\d+)(?=\s|$)/gm, '$1abns@haproxy-check-fd$2');
}

/** Resolves when `haproxy -c -f FILE` accepts the file; throws ConfigRejected with HAProxy's words otherwise. */
export async function validateConfig(file: string, bin = 'haproxy'): Promise<void> {
  const text = readFileSync(file, 'utf8');
  const checkable = checkableConfig(text);
  const checked = checkable === text ? file : `${file}.check`;
  if (checked !== file) writeFileSync(checked, checkable);
  try {
    const result = await execa(bin, ['-c', '-f', checked], {
      reject: false,
      all: true,
      timeout: 10_000,
      env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    });
    // HAProxy names the file it read: name the one that was rendered.
    if (result.exitCode !== 0) throw new ConfigRejected(file, (result.all ?? result.message).split(checked).join(file));
  } finally {
    if (checked !== file) rmSync(checked, { force: true });
  }
}
