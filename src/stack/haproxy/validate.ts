/** Checks a rendered config with HAProxy itself (`haproxy -c`) before anything uses it. */
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

/** Resolves when `haproxy -c -f FILE` accepts the file; throws ConfigRejected with HAProxy's words otherwise. */
export async function validateConfig(file: string, bin = 'haproxy'): Promise<void> {
  const result = await execa(bin, ['-c', '-f', file], {
    reject: false,
    all: true,
    timeout: 10_000,
    env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
  });
  if (result.exitCode !== 0) throw new ConfigRejected(file, result.all ?? result.message);
}
