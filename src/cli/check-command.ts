import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { bootSettings, serviceDefaults, unitLayout } from '../config/boot-settings.js';
import { missingTools } from '../config/chainload-tools.js';
import { formatProblem } from '../config/config-problem.js';
import { loadUnits, overlaySourcesDirs, type UnitLayout } from '../config/load-units.js';
import { looksLikeSourceDir } from '../config/s6-rc-source.js';
import { OVERLAY_UNITS } from '../core/unit-set.js';

interface CheckArgs {
  dirs?: string[];
  root?: string;
  services?: string[];
  's6-rc'?: string[];
  'cont-init'?: string[];
  'cont-finish'?: string[];
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check [dirs..]',
  describe: 'Validate service dirs and s6-rc source dirs as boot reads them: print every problem, exit 1 if there is any',
  builder: (y) =>
    y
      .positional('dirs', { type: 'string', array: true, describe: 'dirs of service dirs, or s6-rc source dirs (recognised by their type files)' })
      .option('root', { type: 'string', describe: 'an image\'s tree unpacked in DIR: check what boot would read there (/etc/s6-overlay/s6-rc.d, /etc/services.d …)' })
      .option('services', { type: 'string', array: true, describe: 'a dir of service dirs, as boot --services' })
      .option('s6-rc', { type: 'string', array: true, describe: 'an s6-rc source dir, as boot --s6-rc' })
      .option('cont-init', { type: 'string', array: true, hidden: true })
      .option('cont-finish', { type: 'string', array: true, hidden: true })
      .example('$0 check ./services.d', 'check the services below ./services.d')
      .example('$0 check --root ./rootfs', 'check an image\'s tree as boot reads it'),
  handler: async (args) => {
    const layout = await checkLayout(args);
    const loaded = await loadUnits(layout, serviceDefaults(process.env));
    const root = args.root ?? '/';
    const stageDirs = args.dirs === undefined ? [join(root, 'etc/cont-init.d'), join(root, 'etc/cont-finish.d')] : [];
    const tools = await missingTools(root, [...layout.serviceDirs, ...layout.s6RcDirs], stageDirs);
    const lines = [...loaded.problems, ...tools].map(formatProblem);
    for (const line of lines) process.stderr.write(`${line}\n`);
    const builtin = new Set(OVERLAY_UNITS.map((u) => u.name));
    const ok = [...loaded.set.atoms.keys()].filter((n) => !builtin.has(n)).length;
    const where = [...layout.serviceDirs, ...layout.s6RcDirs].join(', ');
    process.stdout.write(`${ok} service${ok === 1 ? '' : 's'} ok, ${lines.length} problem${lines.length === 1 ? '' : 's'} in ${where}\n`);
    process.exitCode = lines.length > 0 ? 1 : 0;
  },
};

/**
 * What to read: the dirs given (each a dir of service dirs, or an s6-rc source dir), else boot's
 * own layout, under `--root` when given. Dirs given that do not exist are problems.
 */
async function checkLayout(args: CheckArgs): Promise<UnitLayout> {
  const root = args.root ?? '/';
  const plain = args.dirs ?? [];
  const flags = {
    services: args.services ?? [],
    s6Rc: args['s6-rc'] ?? [],
    contInit: args['cont-init'] ?? [],
    contFinish: args['cont-finish'] ?? [],
    command: [],
  };
  const settings = bootSettings(flags, process.env, root);
  if (plain.length === 0) {
    const named = flags.services.length + flags.s6Rc.length > 0;
    return unitLayout(settings, named ? [] : await overlaySourcesDirs(root));
  }
  const serviceDirs: string[] = [];
  const s6RcDirs: string[] = [];
  for (const dir of plain) ((await looksLikeSourceDir(dir)) ? s6RcDirs : serviceDirs).push(dir);
  return {
    serviceDirs: [...flags.services, ...serviceDirs],
    s6RcDirs: [...flags.s6Rc, ...s6RcDirs],
    bundleDirs: [],
    overlaySourcesDirs: [],
    required: [...settings.requiredDirs, ...plain],
  };
}
