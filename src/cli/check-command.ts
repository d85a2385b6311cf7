import type { CommandModule } from 'yargs';
import { DEFAULT_SERVICE_DIRS, serviceDefaults } from '../config/boot-settings.js';
import { formatProblem } from '../config/config-problem.js';
import { loadServiceDirs } from '../config/load-services.js';
import { dependencyOrder } from '../core/dependency-order.js';

interface CheckArgs {
  dirs?: string[];
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check [dirs..]',
  describe: 'Validate service dirs: print every problem and exit 1 if there is any',
  builder: (y) =>
    y
      .positional('dirs', { type: 'string', array: true, describe: 'dirs of service dirs (default /etc/warden/services.d, /etc/services.d)' })
      .example('$0 check ./services.d', 'validate the services below ./services.d'),
  handler: async (args) => {
    const dirs = args.dirs && args.dirs.length > 0 ? args.dirs : DEFAULT_SERVICE_DIRS;
    const loaded = await loadServiceDirs(dirs, serviceDefaults(process.env));
    const lines = loaded.problems.map(formatProblem);
    const order = dependencyOrder(new Map(loaded.services.map((s) => [s.name, s.dependencies])));
    for (const p of order.problems) lines.push(`${loaded.services.find((s) => s.name === p.service)?.dir ?? p.service}/dependencies: ${p.message}`);
    for (const line of lines) process.stderr.write(`${line}\n`);
    const ok = loaded.services.length - order.problems.length;
    process.stdout.write(`${ok} service${ok === 1 ? '' : 's'} ok, ${lines.length} problem${lines.length === 1 ? '' : 's'} in ${dirs.join(', ')}\n`);
    process.exitCode = lines.length > 0 ? 1 : 0;
  },
};
