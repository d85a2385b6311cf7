/**
 * `warden js FILE [ARGS…]`: runs a CommonJS file (or an ES module without top-level await) on
 * the Node that runs warden. The release's executable is the only Node of an image built
 * without one; a small handler can still be JavaScript (the stack's Serf handler in the
 * balancer image is). FILE sees `process.argv` as `node FILE ARGS…` would give it.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { EXIT_USAGE } from '../protocol/exit-codes.js';

export function runScript(argv: readonly string[]): void {
  const [file, ...args] = argv;
  if (file === undefined || file.startsWith('-')) {
    process.stderr.write('usage: warden js FILE [ARGS...]\n');
    process.exit(EXIT_USAGE);
  }
  const path = resolve(file);
  process.argv = [process.execPath, path, ...args];
  // createRequire: the single executable's own require() loads only Node's built-in modules.
  createRequire(path)(path);
}
