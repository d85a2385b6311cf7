import yargs, { type Argv, type CommandModule } from 'yargs';
import { createLogger } from '../adapters/logger.js';
import { bootSettings, UsageError, type BootSettings } from '../config/boot-settings.js';
import { Init } from '../daemon/init.js';
import { EXIT_CANNOT_START, EXIT_USAGE } from './exit-codes.js';

const dirOption = (describe: string) => ({ type: 'string', describe, requiresArg: true }) as const;

/** Options of `warden boot`; everything from the first non-option on is CMD, as Docker passes it. */
function bootOptions<T>(y: Argv<T>) {
  return y
    .option('services', dirOption('a dir of service dirs; repeat for more (default /etc/warden/services.d, /etc/services.d)'))
    .option('cont-init', dirOption('a cont-init.d dir; repeat for more (default /etc/warden/cont-init.d, /etc/cont-init.d)'))
    .option('cont-finish', dirOption('a cont-finish.d dir; repeat for more (default /etc/warden/cont-finish.d, /etc/cont-finish.d)'))
    .example('$0 boot --services ./services.d', 'supervise the services found there')
    .example('$0 boot node server.js', 'and run node server.js as the main program (CMD)');
}

const list = (value: unknown): string[] => (value === undefined ? [] : [value].flat().map(String));

/** Reads boot's own argv: yargs must stop at CMD, so its flags (and `--`) are CMD's, not ours. */
function parseBootArgv(argv: readonly string[]): BootSettings {
  const parsed = bootOptions(yargs([...argv]))
    .parserConfiguration({ 'halt-at-non-option': true, 'populate--': true, 'parse-numbers': false })
    .strict()
    .fail((message: string) => {
      throw new UsageError(message);
    })
    .parseSync();
  const rest = parsed['--'];
  const command = [...parsed._, ...(Array.isArray(rest) ? rest : [])].map(String);
  return bootSettings(
    { services: list(parsed.services), contInit: list(parsed['cont-init']), contFinish: list(parsed['cont-finish']), command },
    process.env,
  );
}

export const bootCommand: CommandModule = {
  command: 'boot [cmd..]',
  describe: 'Run as the container init (PID 1): supervise the services, then run CMD if given',
  builder: (y) => bootOptions(y).strict(false),
  handler: async () => {
    const logger = createLogger();
    // PID 1 must outlive its own mistakes: log them and go on supervising.
    process.on('uncaughtException', (err) => logger.error({ event: 'uncaught-exception', err }, 'uncaught-exception'));
    process.on('unhandledRejection', (err) => logger.error({ event: 'unhandled-rejection', err }, 'unhandled-rejection'));
    const argv = process.argv.slice(2);
    let settings: BootSettings;
    try {
      settings = parseBootArgv(argv.slice(argv.indexOf('boot') + 1));
    } catch (err) {
      logger.fatal({ event: 'bad-usage' }, err instanceof Error ? err.message : String(err));
      process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_CANNOT_START);
    }
    process.exit(await new Init(settings, logger).run());
  },
};
