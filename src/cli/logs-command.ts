import { dirname } from 'node:path';
import type { CommandModule } from 'yargs';
import { fallbackLogDir, logDir } from '../adapters/service-logs.js';
import { currentSocket } from './control-client.js';
import { EXIT_USAGE } from '../protocol/exit-codes.js';
import { logEntryLine } from '../protocol/log-entry.js';
import { LogFollower, parseSince, readLogs, servicesWithLogs, SinceError, type LogEntry } from './log-reader.js';

interface LogsArgs {
  services?: string[];
  follow?: boolean;
  lines?: number;
  since?: string;
  json?: boolean;
  dir?: string;
}

/** One entry as `warden logs` prints it: `TIME NAME | line` (stderr: `!`), or a JSON line. */
export function formatEntry(e: LogEntry, json: boolean): string {
  if (json) return logEntryLine(e);
  return `${e.time} ${e.service} ${e.stream === 'out' ? '|' : '!'} ${e.line}\n`;
}

/**
 * Where the running warden's service logs are: its runtime dir's log dir when that has logs
 * (warden writes there only when the log dir cannot be written: a read-only root, a non-root
 * PID 1), else the log dir. The runtime dir is WARDEN_RUN_DIR in warden's services, else the
 * dir of the control socket the CLI finds (`docker exec` has neither variable).
 */
export async function runningLogDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const runDirs = new Set([env.WARDEN_RUN_DIR, dirname(currentSocket())].filter((d): d is string => d !== undefined && d !== ''));
  for (const runDir of runDirs) {
    const dir = fallbackLogDir(runDir);
    // Another user's runtime dir, unreadable: not this user's warden.
    if ((await servicesWithLogs(dir).catch(() => [])).length > 0) return dir;
  }
  return logDir(env);
}

export const logsCommand: CommandModule<object, LogsArgs> = {
  command: 'logs [services..]',
  describe: 'Print the services\' logs, merged in time order; -f to follow',
  builder: (y) =>
    y
      .positional('services', { type: 'string', array: true, describe: 'services to show (default: every service that has logs)' })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing new lines (across rotations) until interrupted' })
      .option('lines', { alias: 'n', type: 'number', describe: 'how many lines in all, after merging (default 10; with --since: all)' })
      .option('since', { type: 'string', describe: 'only lines from this time: ISO-8601 (2024-05-01T12:00:00Z) or back from now (30s, 5m, 1h, 2d)' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line: {"time","service","stream","line"}' })
      .option('dir', { type: 'string', describe: 'log dir (default: $WARDEN_LOG_DIR or /var/log/warden, or the runtime dir\'s log/ when warden could not write there)' })
      .example('$0 logs -n 50 web', 'the last 50 lines of web')
      .example('$0 logs -f --since 5m', 'every service, from 5 minutes ago, then follow'),
  handler: async (args) => {
    const dir = args.dir ?? (await runningLogDir());
    let sinceMs: number | undefined;
    try {
      sinceMs = args.since === undefined ? undefined : parseSince(args.since, Date.now());
    } catch (err) {
      if (!(err instanceof SinceError)) throw err;
      process.stderr.write(`warden logs: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (args.lines !== undefined && (!Number.isInteger(args.lines) || args.lines < 0)) {
      process.stderr.write(`warden logs: -n ${String(args.lines)}: expected a whole number of lines, 0 or more\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    const lines = args.lines ?? (sinceMs === undefined ? 10 : undefined);
    const json = args.json === true;

    const known = await servicesWithLogs(dir);
    const asked = args.services ?? [];
    const unknown = asked.filter((s) => !known.includes(s));
    if (unknown.length > 0 || known.length === 0) {
      const what = unknown.length > 0 ? `no logs for ${unknown.join(', ')} in ${dir}` : `no logs in ${dir}`;
      const have = known.length > 0 ? `; services with logs: ${known.join(', ')}` : ' (is WARDEN_LOG_DIR or --dir right?)';
      process.stderr.write(`warden logs: ${what}${have}\n`);
      process.exitCode = 1;
      return;
    }
    const services = asked.length > 0 ? [...new Set(asked)] : known;
    const print = (entries: readonly LogEntry[]): void => {
      if (entries.length > 0) process.stdout.write(entries.map((e) => formatEntry(e, json)).join(''));
    };

    if (args.follow !== true) {
      print(await readLogs(dir, services, { lines, sinceMs }));
      return;
    }
    const follower = await LogFollower.open(dir, services, {
      onError: (err) => process.stderr.write(`warden logs: ${err instanceof Error ? err.message : String(err)}\n`),
    });
    print(await readLogs(dir, services, { lines, sinceMs, pinned: follower.pinned }));
    await follower.start(print);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await follower.close();
  },
};
