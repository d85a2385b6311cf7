/**
 * Where the control socket is: the daemon listens there and the CLI connects there, so both
 * take it from here. The run dir's default lives here too because the socket's default is in it.
 */
export const DEFAULT_RUN_DIR = '/run/warden';
export const SOCKET_NAME = 'control.sock';
export const DEFAULT_SOCKET = `${DEFAULT_RUN_DIR}/${SOCKET_NAME}`;

/** The control socket: `WARDEN_SOCKET`, else the default. */
export function socketPath(env: Readonly<Record<string, string | undefined>>): string {
  return env.WARDEN_SOCKET || DEFAULT_SOCKET;
}
