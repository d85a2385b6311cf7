import type { CommandModule } from 'yargs';

/**
 * `boot` as yargs lists it in `warden --help`. main.ts runs boot before yargs is ever loaded;
 * this handler is reached only when something precedes `boot` (e.g. `warden --no-color boot`).
 */
export const bootCommand: CommandModule = {
  command: 'boot [cmd..]',
  describe: 'Run as the container init (PID 1): supervise the services, then run CMD if given (see boot --help)',
  builder: (y) => y.strict(false).help(false),
  handler: async () => {
    const { boot } = await import('./boot.js');
    const argv = process.argv.slice(2);
    await boot(argv.slice(argv.indexOf('boot') + 1));
  },
};
