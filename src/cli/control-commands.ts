/** The commands that talk to the running supervisor over its control socket. */
import type { Argv, CommandModule } from 'yargs';
import type { WaitCondition } from '../protocol/commands.js';
import { MAX_TIMER_MS } from '../core/timer-limit.js';
import { call, CliError } from './control-client.js';
import { EXIT_FAILED, EXIT_TIMEOUT, EXIT_USAGE } from '../protocol/exit-codes.js';
import { formatStatusTable } from './format-status.js';
import { healthReport } from './health.js';
import { healthOf } from './health-source.js';

interface ServicesArgs {
  services?: string[];
}

const withServices = <T>(y: Argv<T>, required: boolean) =>
  // No `[default: []]` in the help ("none: every service" says it for people); yargs then
  // gives [undefined] for no names, which `namesOf` drops.
  y.positional('services', { type: 'string', array: true, demandOption: required, describe: required ? 'one or more service names' : 'service names (none: every service)', default: undefined });

/** The service names given (none: an empty list). */
const namesOf = (args: ServicesArgs): string[] => (args.services ?? []).filter((name): name is string => typeof name === 'string');

/**
 * `value` as a whole number in [min, max], else a usage error (100): yargs turns `abc` into NaN,
 * which JSON sends as null, and a typo must never become a default (halt 0, wait for ever).
 */
function wholeNumber(flag: string, value: number, min: number, max: number): number {
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  throw new CliError(`${flag} must be a whole number from ${min} to ${max}, not ${String(value)}`, EXIT_USAGE);
}

const print = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export const statusCommand: CommandModule<object, ServicesArgs & { json?: boolean }> = {
  command: 'status [services..]',
  describe: 'Show every service (or the named ones): state, pid, uptime, readiness, restarts, last exit',
  builder: (y) =>
    withServices(y, false)
      .option('json', { type: 'boolean', describe: 'print the status as JSON, a stable format for scripts' })
      .example('$0 status', 'a table of every service')
      .example('$0 status web --json', 'the web service, as JSON'),
  handler: async (args) => {
    const statuses = await call({ cmd: 'status', services: namesOf(args) });
    // A table by default, as pm2, kubectl and supervisorctl print, piped or not (`docker exec`
    // has no terminal); colours only on a terminal, and never with NO_COLOR (no-color.org).
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    print(args.json === true ? JSON.stringify(statuses, null, 2) : formatStatusTable(statuses, color));
  },
};

export const healthCommand: CommandModule<object, ServicesArgs> = {
  command: 'health [services..]',
  describe: 'Exit 0 when every normally-up service (or the named ones) is up, ready and not crash-looping; else 1, one line per unhealthy service',
  builder: (y) =>
    withServices(y, false)
      .example('$0 health', 'for a Docker HEALTHCHECK or a Kubernetes probe')
      .example('$0 health db web', 'only these two'),
  handler: async (args) => {
    const services = namesOf(args);
    const lines = healthReport(await healthOf(services), services.length > 0);
    if (lines.length === 0) return;
    print(lines.join('\n'));
    process.exitCode = EXIT_FAILED;
  },
};

/** What each example of up, down, restart and once does, said plainly. */
const EXAMPLES = {
  up: 'start web and keep it running',
  down: 'stop web and keep it stopped',
  restart: 'stop web; it starts again',
  once: 'start web; do not restart it when it exits',
} as const;

/** up, down, restart, once: one shape, s6-svc's -u, -d, -r, -o. */
function svcCommand(cmd: 'up' | 'down' | 'restart' | 'once', describe: string): CommandModule<object, ServicesArgs> {
  return {
    command: `${cmd} <services..>`,
    describe,
    builder: (y) => withServices(y, true).example(`$0 ${cmd} web`, EXAMPLES[cmd]),
    handler: async (args) => {
      const statuses = await call({ cmd, services: namesOf(args) });
      for (const s of statuses) print(`${s.name}: ${s.state}${s.pid === null ? '' : ` (pid ${s.pid})`}`);
    },
  };
}

export const upCommand = svcCommand('up', 'Start the services and keep them up (s6-svc -u)');
export const downCommand = svcCommand('down', 'Stop the services with their down signal and keep them down (s6-svc -d)');
export const restartCommand = svcCommand('restart', 'Stop the services with their down signal; they start again (s6-svc -r)');
export const onceCommand = svcCommand('once', 'Start the services, but do not restart them when they exit (s6-svc -o)');

export const signalCommand: CommandModule<object, ServicesArgs & { signal: string }> = {
  command: 'signal <signal> <services..>',
  describe: 'Send a signal (HUP, USR1, TERM, 9, …) to the services',
  builder: (y) =>
    withServices(y.positional('signal', { type: 'string', demandOption: true, describe: 'signal name or number' }), true)
      .example('$0 signal HUP nginx', 'make nginx reload its configuration'),
  handler: async (args) => {
    const services = namesOf(args);
    await call({ cmd: 'signal', signal: args.signal, services });
    print(`sent ${args.signal} to ${services.join(', ')}`);
  },
};

export const waitCommand: CommandModule<object, ServicesArgs & { up?: boolean; ready?: boolean; down?: boolean; any?: boolean; timeout: number }> = {
  command: 'wait <services..>',
  describe: `Wait until the services are up (default), ready or down; exit ${EXIT_TIMEOUT} on timeout`,
  builder: (y) =>
    withServices(y, true)
      .option('up', { type: 'boolean', describe: 'wait until running' })
      .option('ready', { type: 'boolean', describe: 'wait until running and ready' })
      .option('down', { type: 'boolean', describe: 'wait until down' })
      .conflicts('up', ['ready', 'down'])
      .conflicts('ready', 'down')
      .option('any', { type: 'boolean', describe: 'done when any one of them is (s6-svwait -o); default: all' })
      .option('timeout', { type: 'number', default: 0, describe: 'give up after this many ms (0: wait for ever)' })
      .example('$0 wait --ready --timeout 5000 db web', 'wait up to 5 s for db and web to be ready'),
  handler: async (args) => {
    const condition: WaitCondition = args.ready ? 'ready' : args.down ? 'down' : 'up';
    const timeoutMs = wholeNumber('--timeout', args.timeout, 0, MAX_TIMER_MS);
    await call({ cmd: 'wait', condition, timeoutMs, any: args.any === true, services: namesOf(args) });
  },
};

export const haltCommand: CommandModule<object, { code: number }> = {
  command: 'halt',
  describe: 'Stop the container gracefully (services, cont-finish.d, every process), exiting with --code',
  builder: (y) =>
    y
      .option('code', { type: 'number', default: 0, describe: 'exit code of the container (0-255)' })
      .example('$0 halt --code 3', 'stop everything; the container exits 3'),
  handler: async (args) => {
    await call({ cmd: 'halt', code: wholeNumber('--code', args.code, 0, 255) });
  },
};

export const reloadCommand: CommandModule = {
  command: 'reload',
  describe: 'Rescan the service dirs now: start added services, stop removed ones, restart changed ones',
  builder: (y) => y.example('$0 reload', 'apply the service dirs as they are now'),
  handler: async () => {
    const result = await call({ cmd: 'reload' });
    const changes = (['added', 'removed', 'changed'] as const).map((what) => [what, result[what]] as const).filter(([, names]) => names.length > 0);
    if (changes.length === 0) print('reloaded: no change');
    for (const [what, names] of changes) print(`${what}: ${names.join(', ')}`);
  },
};
