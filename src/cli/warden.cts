#!/usr/bin/env node
/**
 * The `warden` command of the npm package. CommonJS on purpose: the plain control commands that
 * a probe runs every few seconds (status, health, up …: fast-path.ts) start from one CommonJS
 * bundle, and Node then never starts its ES module loader, which costs a short-lived client
 * ~1.7 MB of peak RSS and some of its start (Node 20, docs/benchmarks.md). Everything else —
 * boot, js, yargs' command line — is main.js and the ES modules, as before.
 */
interface FastPath {
  runPlain(argv: readonly string[]): Promise<boolean>;
}

const argv = process.argv.slice(2);

/** The fast path's CommonJS bundle; null for boot and js, or in a tsc-only build (no bundle). */
function fastPath(): FastPath | null {
  if (argv[0] === 'boot' || argv[0] === 'js') return null;
  try {
    // require, not import(): an import() would start the ES module loader this file avoids.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./fast-path.bundle.cjs') as FastPath;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

const fast = fastPath();
if (fast === null) {
  void import('./main.js');
} else {
  void fast.runPlain(argv).then(async (done) => {
    if (done) return;
    const { runCommands } = await import('./commands.js');
    await runCommands(argv);
  });
}
