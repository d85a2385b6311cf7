/**
 * A tiny `systemd-notify` for tests: sends its arguments, joined by newlines, as one datagram
 * to $NOTIFY_SOCKET (e.g. `node notify-send.js READY=1 STATUS=serving`). Exits 1 with a
 * message when NOTIFY_SOCKET is unset or the send fails. Needs no python3 or socat.
 */
import { sendNotify } from '../../src/adapters/notify-socket.js';

const socket = process.env.NOTIFY_SOCKET;
if (!socket) {
  process.stderr.write('notify-send: NOTIFY_SOCKET is not set\n');
  process.exit(1);
}
try {
  sendNotify(socket, process.argv.slice(2).join('\n'));
} catch (err) {
  process.stderr.write(`notify-send: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
