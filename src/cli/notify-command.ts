/**
 * `warden notify`: one sd_notify message to $NOTIFY_SOCKET from a service's script, as
 * systemd-notify sends it, for programs that cannot speak sd_notify themselves.
 */
import type { CommandModule } from 'yargs';
import { CliError } from './control-client.js';
import { EXIT_USAGE } from '../protocol/exit-codes.js';

interface NotifyArgs {
  readonly fields?: string[];
  readonly ready?: boolean;
  readonly status?: string;
  readonly stopping?: boolean;
}

/** The message's lines, from the flags and the FIELD=VALUE arguments; throws on a bad one. */
export function notifyLines(args: NotifyArgs): string[] {
  const lines = [
    ...(args.ready ? ['READY=1'] : []),
    ...(args.status !== undefined ? [`STATUS=${args.status}`] : []),
    ...(args.stopping ? ['STOPPING=1'] : []),
    ...(args.fields ?? []),
  ];
  if (lines.length === 0) throw new CliError('nothing to send: give --ready, --status TEXT, --stopping or FIELD=VALUE', EXIT_USAGE);
  for (const line of lines) {
    if (!/^[A-Z][A-Z0-9_]*=[^\n]*$/.test(line)) throw new CliError(`${JSON.stringify(line)}: expected FIELD=VALUE on one line, e.g. READY=1`, EXIT_USAGE);
  }
  return lines;
}

export const notifyCommand: CommandModule<object, NotifyArgs> = {
  command: 'notify [fields..]',
  describe: "Tell warden about this service through $NOTIFY_SOCKET (sd_notify): ready, a status line, stopping",
  builder: (y) =>
    y
      .positional('fields', { type: 'string', array: true, describe: 'FIELD=VALUE lines, e.g. READY=1' })
      .option('ready', { type: 'boolean', describe: 'send READY=1' })
      .option('status', { type: 'string', describe: 'send STATUS=TEXT (shown by warden status)' })
      .option('stopping', { type: 'boolean', describe: 'send STOPPING=1' })
      .example('$0 notify --ready', 'in a run script with a notify-socket file: the service is ready')
      .example('$0 notify --status "loading 40%"', 'a status line for warden status'),
  handler: async (args) => {
    const lines = notifyLines(args);
    const socket = process.env.NOTIFY_SOCKET;
    if (!socket) throw new CliError('NOTIFY_SOCKET is not set: warden sets it for services with a notify-socket file', 1);
    // Loaded only here: no other command needs the native sendto.
    const { sendNotify } = await import('../adapters/notify-socket.js');
    sendNotify(socket, lines.join('\n'));
  },
};
