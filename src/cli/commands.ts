/** The yargs command line: the control commands, check, logs (boot goes straight to boot.ts). */
import yargs from 'yargs';
import { bootCommand } from './boot-command.js';
import { checkCommand } from './check-command.js';
import { CliError } from './control-client.js';
import {
  downCommand,
  haltCommand,
  onceCommand,
  reloadCommand,
  restartCommand,
  signalCommand,
  statusCommand,
  upCommand,
  waitCommand,
} from './control-commands.js';
import { EXIT_CANNOT_START, EXIT_USAGE } from './exit-codes.js';
import { logsCommand } from './logs-command.js';
import { notifyCommand } from './notify-command.js';

/** Every command but a direct `warden boot`, through yargs. */
export async function runCommands(argv: readonly string[]): Promise<void> {
  const cli = yargs([...argv])
    .scriptName('warden')
    .usage('$0 <command>\n\nA container init and process supervisor that reads s6 service directories.')
    .command(bootCommand)
    .command(checkCommand)
    .command(statusCommand)
    .command(upCommand)
    .command(downCommand)
    .command(restartCommand)
    .command(onceCommand)
    .command(signalCommand)
    .command(waitCommand)
    .command(haltCommand)
    .command(reloadCommand)
    .command(logsCommand)
    .command(notifyCommand)
    .demandCommand(1, 'Name a command.')
    .strict()
    .fail((message, err, y) => {
      if (err) throw err;
      process.stderr.write(`${y.help().toString()}\n\nwarden: ${message}\n`);
      process.exit(EXIT_USAGE);
    })
    .help()
    .version();

  try {
    await cli.parseAsync();
  } catch (err) {
    process.stderr.write(`warden: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof CliError ? err.exitCode : EXIT_CANNOT_START);
  }
}
