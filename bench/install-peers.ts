/** The peers' binaries (Debian's s6, execline, runit …): installed by scripts/install-bench-deps.sh when missing. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './doc-section.js';

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs the install script (as root) when any of `binaries` is missing; throws when that cannot help. */
export function ensureBinaries(binaries: readonly string[]): void {
  const missing = binaries.filter((b) => !onPath(b));
  if (missing.length === 0) return;
  const script = join(repoRoot(), 'scripts', 'install-bench-deps.sh');
  if (process.getuid?.() !== 0) {
    throw new Error(`missing peer binaries: ${missing.join(', ')}. Run \`sudo sh ${script}\` (apt: s6 execline runit supervisor tini), then the bench again.`);
  }
  process.stderr.write(`bench: missing ${missing.join(', ')}: running ${script}\n`);
  execFileSync('sh', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  const still = binaries.filter((b) => !onPath(b));
  if (still.length > 0) throw new Error(`still missing after ${script}: ${still.join(', ')}`);
}
