#!/usr/bin/env node
/** The `warden` command: `boot` runs the supervisor (PID 1); the others are small clients. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { bootCommand } from './boot-command.js';
import { checkCommand } from './check-command.js';
import { EXIT_USAGE } from './exit-codes.js';

await yargs(hideBin(process.argv))
  .scriptName('warden')
  .usage('$0 <command>\n\nA container init and process supervisor that reads s6 service directories.')
  .command(bootCommand)
  .command(checkCommand)
  .demandCommand(1, 'Name a command: boot, check.')
  .strict()
  .fail((message, err, y) => {
    if (err) throw err;
    process.stderr.write(`${y.help().toString()}\n\nwarden: ${message}\n`);
    process.exit(EXIT_USAGE);
  })
  .help()
  .version()
  .parseAsync();
