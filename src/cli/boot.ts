/** `warden boot`: the supervisor itself, run as PID 1. */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../adapters/clock.js';
import { Launcher } from '../adapters/launcher.js';
import { createLogger, flushLogger, type Logger } from '../adapters/logger.js';
import { fallbackLogDir } from '../adapters/service-logs.js';
import { chooseRunDir, unusableReason } from '../adapters/runtime-dir.js';
import { sendSignal } from '../adapters/signals.js';
import { SOCKET_NAME } from '../protocol/socket-path.js';
import { bootSettings, logLevel, UsageError, type BootSettings } from '../config/boot-settings.js';
import { Init, systemInitEdges } from '../daemon/init.js';
import { BOOT_USAGE, parseBootArgs } from './boot-args.js';
import { EXIT_CANNOT_START, EXIT_USAGE } from '../protocol/exit-codes.js';

/**
 * Chooses the runtime dir (runtime-dir.ts) and puts it in warden's environment as
 * WARDEN_RUN_DIR (and its control socket as WARDEN_SOCKET, unless set), so its services,
 * with-contenv and `warden` commands run by them find the same warden. s6-overlay's fixed paths under /run are written by default only as PID 1: on a host they
 * would be shared by every warden there.
 */
function runtimeEnv(logger: Logger): NodeJS.ProcessEnv {
  const pid1 = process.pid === 1;
  const chosen = chooseRunDir(process.env, { uid: process.getuid?.() ?? 0, pid1, pid: process.pid });
  if (chosen.fellBack !== null) {
    const { from, reason } = chosen.fellBack;
    logger.warn({ event: 'run-dir-fallback', from, to: chosen.dir, reason }, `runtime dir ${chosen.dir}: ${from} is not writable (${reason})`);
  }
  process.env.WARDEN_RUN_DIR = chosen.dir;
  process.env.WARDEN_SOCKET ||= join(chosen.dir, SOCKET_NAME);
  if (process.env.WARDEN_S6_RUNTIME === undefined && !pid1) process.env.WARDEN_S6_RUNTIME = '0';
  return process.env;
}

/** The log dir, or `RUNDIR/log` when it cannot be written (a read-only root): said once, here. */
function withUsableLogDir(settings: BootSettings, logger: Logger): BootSettings {
  const reason = unusableReason(settings.logDir);
  if (reason === null) return settings;
  const fallback = fallbackLogDir(settings.runDir);
  logger.warn({ event: 'log-dir-fallback', from: settings.logDir, to: fallback, reason }, `service logs go to ${fallback}: ${settings.logDir} is not writable (${reason})`);
  return { ...settings, logDir: fallback };
}

/** How long the exit waits for warden's own last log lines to be read. */
const FINAL_FLUSH_MS = 1000;

/**
 * Puts warden's shims (s6-svc, s6-svstat, s6-svwait, s6-rc …) first on the PATH of everything
 * warden starts. An image that only switched its ENTRYPOINT still has s6-overlay's /command on
 * PATH, whose s6-svc and s6-svstat talk to an s6-supervise that does not run under warden.
 */
function shimsFirstOnPath(): void {
  // s6-overlay's /init puts /command, /usr/bin and /bin on the PATH when it lacks them, so its
  // scripts call execline's and s6's programs (`fdmove`, `s6-setuidgid`) by name with an image
  // PATH that never named /command: the same here, after the shims.
  let path = (process.env.PATH ?? '').split(':').filter((p) => p !== '');
  for (const dir of ['/bin', '/usr/bin', '/command']) if (!path.includes(dir)) path = [dir, ...path];
  // The release's executable (/opt/warden/bin/warden) has them in /opt/warden/shims.
  const shims = isSea() ? join(dirname(process.execPath), '..', 'shims') : fileURLToPath(new URL('../../../shims', import.meta.url));
  if (existsSync(`${shims}/s6-svc`)) path = [shims, ...path.filter((p) => p !== shims)];
  process.env.PATH = path.join(':');
}

export async function boot(argv: readonly string[]): Promise<never> {
  // WARDEN_RUN_DIR was set by the user (before runtimeEnv sets it): that dir is theirs, warden
  // does not remove it.
  const ownRunDirNamed = Boolean(process.env.WARDEN_RUN_DIR);
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
    settings = bootSettings(args.flags, runtimeEnv(logger));
  } catch (err) {
    logger.fatal({ event: 'bad-usage' }, err instanceof Error ? err.message : String(err));
    await flushLogger(logger, FINAL_FLUSH_MS);
    process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_CANNOT_START);
  }
  if (settings.s6Runtime) shimsFirstOnPath();
  settings = withUsableLogDir(settings, logger);
  // Every edge of the daemon, built here; the environment is read once, now that boot set its own variables.
  const edges = systemInitEdges({ clock: systemClock, launcher: new Launcher(), signal: sendSignal, env: process.env });
  const code = await new Init(settings, logger, edges).run();
  // A sub-init's own dir (one per instance) goes with it; a PID 1's goes with the container.
  if (process.pid !== 1 && !ownRunDirNamed) rmSync(settings.runDir, { recursive: true, force: true });
  // The last lines reach a slow stderr reader, but a stuck one cannot hold PID 1 past this.
  await flushLogger(logger, FINAL_FLUSH_MS);
  process.exit(code);
}
