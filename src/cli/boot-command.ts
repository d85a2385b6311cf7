import type { CommandModule } from 'yargs';
import { createLogger } from '../adapters/logger.js';
import { bootSettings, UsageError } from '../config/boot-settings.js';
import { Init } from '../daemon/init.js';
import { EXIT_CANNOT_START, EXIT_USAGE } from './exit-codes.js';

interface BootArgs {
  services?: string[];
  'cont-init'?: string[];
  'cont-finish'?: string[];
  cmd?: (string | number)[];
  '--'?: (string | number)[];
}

export const bootCommand: CommandModule<object, BootArgs> = {
  command: 'boot [cmd..]',
  describe: 'Run as the container init (PID 1): supervise the services, then run CMD if given',
  builder: (y) =>
    y
      // Docker passes CMD as plain arguments after ENTRYPOINT: everything from the first
      // non-option on belongs to CMD, flags included.
      .parserConfiguration({ 'halt-at-non-option': true, 'populate--': true })
      .positional('cmd', { type: 'string', array: true, describe: 'main program and its arguments' })
      .option('services', { type: 'string', array: true, describe: 'service dirs (default /etc/warden/services.d, /etc/services.d)' })
      .option('cont-init', { type: 'string', array: true, describe: 'cont-init.d dirs (default /etc/warden/cont-init.d, /etc/cont-init.d)' })
      .option('cont-finish', { type: 'string', array: true, describe: 'cont-finish.d dirs (default /etc/warden/cont-finish.d, /etc/cont-finish.d)' })
      .example('$0 boot --services ./services.d', 'supervise the services found there')
      .example('$0 boot -- node server.js', 'and run node server.js as the main program'),
  handler: async (args) => {
    const logger = createLogger();
    // PID 1 must outlive its own mistakes: log them and go on supervising.
    process.on('uncaughtException', (err) => logger.error({ event: 'uncaught-exception', err }, 'uncaught-exception'));
    process.on('unhandledRejection', (err) => logger.error({ event: 'unhandled-rejection', err }, 'unhandled-rejection'));
    let settings;
    try {
      const command = [...(args.cmd ?? []), ...(args['--'] ?? [])].map(String);
      settings = bootSettings(
        { services: args.services, contInit: args['cont-init'], contFinish: args['cont-finish'], command },
        process.env,
      );
    } catch (err) {
      logger.fatal({ event: 'bad-usage', err }, err instanceof Error ? err.message : String(err));
      process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_CANNOT_START);
    }
    const code = await new Init(settings, logger).run();
    process.exit(code);
  },
};
