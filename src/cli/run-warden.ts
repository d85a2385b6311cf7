/**
 * The `warden` command line, whichever way warden was started (npm's `warden`, or the release's
 * single executable). `boot` (PID 1) goes straight to the supervisor without loading yargs or
 * the client commands: less to load, and less memory for the container's whole life.
 */
import { tuneV8ForSupervisor } from './pid1-v8-flags.js';

/** Loads `boot`: the npm build takes it from its boot bundle, the single executable has it inside. */
export type BootLoader = () => Promise<typeof import('./boot.js')>;

export async function runWarden(argv: readonly string[], loadBoot: BootLoader): Promise<void> {
  if (argv[0] === 'boot') {
    // PID 1's V8 settings (pid1-v8-flags.ts) must precede any hot code, not delay boot: node:v8
    // (~2 ms to load) loads while boot's code is read, and the flags are set before it runs.
    const tuned = tuneV8ForSupervisor();
    const { boot } = await loadBoot();
    await tuned;
    await boot(argv.slice(1));
  } else if (argv[0] === 'js') {
    const { runScript } = await import('./run-script.js');
    runScript(argv.slice(1));
  } else {
    const { runCommands } = await import('./commands.js');
    await runCommands(argv);
  }
}
