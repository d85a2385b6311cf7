/**
 * The `warden` command line, whichever way warden was started (npm's `warden`, or the release's
 * single executable). `boot` (PID 1) goes straight to the supervisor without loading yargs or
 * the client commands: less to load, and less memory for the container's whole life. The plain
 * forms of the control commands a probe runs every few seconds (status, health, up …) skip
 * yargs too (fast-path.ts); the rest goes through it.
 */
import { tuneV8ForSupervisor } from './pid1-v8-flags.js';

/** How `boot` and the fast path are loaded: the npm build takes each from its bundle, the single executable has them inside. */
export interface Loaders {
  readonly boot: () => Promise<typeof import('./boot.js')>;
  readonly fastPath: () => Promise<typeof import('./fast-path.js')>;
}

export async function runWarden(argv: readonly string[], load: Loaders): Promise<void> {
  if (argv[0] === 'boot') {
    // PID 1's V8 settings (pid1-v8-flags.ts) must precede any hot code, not delay boot: node:v8
    // (~2 ms to load) loads while boot's code is read, and the flags are set before it runs.
    const tuned = tuneV8ForSupervisor();
    const { boot } = await load.boot();
    await tuned;
    await boot(argv.slice(1));
  } else if (argv[0] === 'js') {
    const { runScript } = await import('./run-script.js');
    runScript(argv.slice(1));
  } else {
    const { runPlain } = await load.fastPath();
    if (await runPlain(argv)) return;
    const { runCommands } = await import('./commands.js');
    await runCommands(argv);
  }
}
