/**
 * `warden boot`'s arguments, parsed by hand: PID 1 does not load yargs (15 MB of RSS for the
 * whole life of the container), and everything from the first non-option on is CMD, flags
 * included, as Docker passes CMD after ENTRYPOINT.
 */
import { UsageError, type BootFlags } from '../config/boot-settings.js';

export const BOOT_USAGE = `Usage: warden boot [--services DIR]… [--cont-init DIR]… [--cont-finish DIR]… [--s6-rc DIR]… [--log-format F] [--] [CMD ARGS…]

Run as the container init (PID 1): run cont-init.d, supervise the services, then run CMD if given;
its exit ends the container. Options may repeat; each names one more dir.

  --services DIR     a dir of service dirs (default /etc/warden/services.d, /etc/services.d)
  --cont-init DIR    a cont-init.d dir (default /etc/warden/cont-init.d, /etc/cont-init.d)
  --cont-finish DIR  a cont-finish.d dir (default /etc/warden/cont-finish.d, /etc/cont-finish.d)
  --s6-rc DIR        an s6-rc source dir; its user bundle starts (default /etc/s6-overlay/s6-rc.d)
  --log-format F     services' lines on the container's stdout: prefix (web | text), json, none
                     (default prefix, or WARDEN_CONSOLE_FORMAT); files in WARDEN_LOG_DIR either way
  --help             show this help

Examples:
  warden boot --services ./services.d     supervise the services found there
  warden boot node server.js              and run node server.js as the main program (CMD)
`;

const DIR_OPTIONS = { services: 'services', 'cont-init': 'contInit', 'cont-finish': 'contFinish', 's6-rc': 's6Rc' } as const;
type DirOption = keyof typeof DIR_OPTIONS;

export type BootArgs = { readonly help: true } | { readonly help: false; readonly flags: BootFlags };

export function parseBootArgs(argv: readonly string[]): BootArgs {
  const dirs: Record<(typeof DIR_OPTIONS)[DirOption], string[]> = { services: [], contInit: [], contFinish: [], s6Rc: [] };
  let logFormat: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return { help: false, flags: { ...dirs, logFormat, command: argv.slice(i + 1) } };
    if (arg === '--help' || arg === '-h') return { help: true };
    if (!arg.startsWith('-')) return { help: false, flags: { ...dirs, logFormat, command: argv.slice(i) } };
    const [name, inline] = arg.startsWith('--') ? splitOnce(arg.slice(2)) : [arg, undefined];
    if (name !== 'log-format' && !(name in DIR_OPTIONS)) throw new UsageError(`unknown option ${arg} (see warden boot --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a ${name === 'log-format' ? 'format' : 'directory'}`);
    if (name === 'log-format') logFormat = value;
    else dirs[DIR_OPTIONS[name as DirOption]].push(value);
  }
  return { help: false, flags: { ...dirs, logFormat, command: [] } };
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf('=');
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
