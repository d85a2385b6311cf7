/** The yargs command line: the control commands, check, logs (boot goes straight to boot.ts). */
import yargs from 'yargs';
import { bootCommand } from './boot-command.js';
import { checkCommand } from './check-command.js';
import { exitWithFailure } from './control-client.js';
import {
  downCommand,
  haltCommand,
  healthCommand,
  onceCommand,
  reloadCommand,
  restartCommand,
  signalCommand,
  statusCommand,
  upCommand,
  waitCommand,
} from './control-commands.js';
import { nearMiss } from '../config/near-miss.js';
import { EXIT_CODES_HELP, EXIT_USAGE } from '../protocol/exit-codes.js';
import { logsCommand } from './logs-command.js';
import { notifyCommand } from './notify-command.js';
import { wardenVersion } from './version.js';

const COMMANDS = ['boot', 'check', 'status', 'health', 'up', 'down', 'restart', 'once', 'signal', 'wait', 'halt', 'reload', 'logs', 'notify'];

/** yargs' usage message as one line for a person: an unknown command gets a "did you mean". */
export function usageError(argv: readonly string[], message: string): string {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && !COMMANDS.includes(first)) {
    const near = nearMiss(first, COMMANDS);
    return `unknown command "${first}"${near === null ? '' : ` (did you mean ${near}?)`}; warden --help lists the commands`;
  }
  const text = /^Not enough non-option arguments/.test(message)
    ? 'missing arguments'
    : message.charAt(0).toLowerCase() + message.slice(1).replace(/\.$/, '').replace(/\n+/g, '; ');
  return first === undefined ? `${text}; warden --help lists the commands` : `${text} (see warden ${first} --help)`;
}

/** Every command but a direct `warden boot`, through yargs. */
export async function runCommands(argv: readonly string[]): Promise<void> {
  const cli = yargs([...argv])
    .scriptName('warden')
    .usage('$0 <command>\n\nA container init and process supervisor that reads s6 service directories.')
    .command(bootCommand)
    .command(checkCommand)
    .command(statusCommand)
    .command(healthCommand)
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
    .demandCommand(1, 'name a command')
    .strict()
    .fail((message, err) => {
      if (err) throw err;
      // One line, as every error of warden's: help only when asked for (--help).
      process.stderr.write(`warden: ${usageError(argv, message)}\n`);
      process.exit(EXIT_USAGE);
    })
    .epilogue(EXIT_CODES_HELP)
    .help()
    // Given, not guessed: yargs looks for a package.json, which the single executable has not.
    .version(wardenVersion());

  try {
    await cli.parseAsync();
  } catch (err) {
    exitWithFailure(err);
  }
}
