/** `warden boot`: the supervisor itself, run as PID 1. */
import { createLogger } from '../adapters/logger.js';
import { bootSettings, logLevel, UsageError, type BootSettings } from '../config/boot-settings.js';
import { Init } from '../daemon/init.js';
import { BOOT_USAGE, parseBootArgs } from './boot-args.js';
import { EXIT_CANNOT_START, EXIT_USAGE } from './exit-codes.js';

export async function boot(argv: readonly string[]): Promise<never> {
  const logger = createLogger(logLevel(process.env));
  // PID 1 must outlive its own mistakes: log them and go on supervising.
  process.on('uncaughtException', (err) => logger.error({ event: 'uncaught-exception', err }, 'uncaught-exception'));
  process.on('unhandledRejection', (err) => logger.error({ event: 'unhandled-rejection', err }, 'unhandled-rejection'));
  let settings: BootSettings;
  try {
    const args = parseBootArgs(argv);
    if (args.help) {
      process.stdout.write(BOOT_USAGE);
      process.exit(0);
    }
    settings = bootSettings(args.flags, process.env);
  } catch (err) {
    logger.fatal({ event: 'bad-usage' }, err instanceof Error ? err.message : String(err));
    process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_CANNOT_START);
  }
  process.exit(await new Init(settings, logger).run());
}
