#!/usr/bin/env node
/**
 * The `warden` command. `boot` (PID 1) goes straight to the supervisor without loading yargs or
 * the client commands: less to load, and less memory for the container's whole life.
 */
import { tuneV8ForSupervisor } from './pid1-v8-flags.js';

const argv = process.argv.slice(2);
if (argv[0] === 'boot') {
  // PID 1's V8 settings (pid1-v8-flags.ts) must precede any hot code, not delay boot: node:v8
  // (~2 ms to load) loads while the bundle's file is read, and the flags are set before it runs.
  const tuned = tuneV8ForSupervisor();
  // The build bundles boot.js and its imports into one file (scripts/bundle.mjs): one module
  // to load instead of dozens. A string variable keeps tsc from looking for it at compile time.
  const bundle: string = './boot.bundle.js';
  const { boot } = (await import(bundle).catch((err: NodeJS.ErrnoException) => {
    // A tsc-only build has no bundle: the modules it was made from do the same, a little slower.
    if (err.code === 'ERR_MODULE_NOT_FOUND') return import('./boot.js');
    throw err;
  })) as typeof import('./boot.js');
  await tuned;
  await boot(argv.slice(1));
} else {
  const { runCommands } = await import('./commands.js');
  await runCommands(argv);
}
