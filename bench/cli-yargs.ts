/**
 * The CLI as it ran before the fast path (src/cli/fast-path.ts): every command through yargs.
 * bench/cli-start.ts times it beside `warden` itself, in the same run.
 */
import { runCommands } from '../src/cli/commands.js';

await runCommands(process.argv.slice(2));
