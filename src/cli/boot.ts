/** `warden boot`: the supervisor itself, run as PID 1. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, flushLogger } from '../adapters/logger.js';
import { bootSettings, logLevel, UsageError, type BootSettings } from '../config/boot-settings.js';
import { Init } from '../daemon/init.js';
import { BOOT_USAGE, parseBootArgs } from './boot-args.js';
import { EXIT_CANNOT_START, EXIT_USAGE } from './exit-codes.js';

/** How long the exit waits for warden's own last log lines to be read. */
const FINAL_FLUSH_MS = 1000;

/**
 * Puts warden's shims (s6-svc, s6-svstat, s6-svwait, s6-rc …) first on the PATH of everything
 * warden starts. An image that only switched its ENTRYPOINT still has s6-overlay's /command on
 * PATH, whose s6-svc and s6-svstat talk to an s6-supervise that does not run under warden.
 */
function shimsFirstOnPath(): void {
  const shims = fileURLToPath(new URL('../../../shims', import.meta.url));
  if (!existsSync(`${shims}/s6-svc`)) return;
  const path = (process.env.PATH ?? '/usr/bin:/bin').split(':').filter((p) => p !== shims);
  process.env.PATH = [shims, ...path].join(':');
}

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
    await flushLogger(logger, FINAL_FLUSH_MS);
    process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_CANNOT_START);
  }
  if (settings.s6Runtime) shimsFirstOnPath();
  const code = await new Init(settings, logger).run();
  // The last lines reach a slow stderr reader, but a stuck one cannot hold PID 1 past this.
  await flushLogger(logger, FINAL_FLUSH_MS);
  process.exit(code);
}
