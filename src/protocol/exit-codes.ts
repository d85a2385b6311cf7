/**
 * Exit codes, after s6's: 100 for wrong usage, 111 when a system call failed (no warden to talk
 * to; for PID 1, warden itself could not start). Scripts tell the other failures apart by these;
 * `warden --help` and the README list them.
 */
import { CANNOT_RUN } from '../core/exit-status.js';
import type { ErrorCode } from './reply.js';

/** Refused or failed: a bad request, warden shutting down; `check` found problems. */
export const EXIT_FAILED = 1;
/** A named service does not exist. */
export const EXIT_UNKNOWN_SERVICE = 2;
/** `wait` gave up at its --timeout. */
export const EXIT_TIMEOUT = 3;
export const EXIT_USAGE = 100;
export const EXIT_CANNOT_START = CANNOT_RUN;

/** The exit code of a command whose request got this error. */
export const EXIT_BY_ERROR: Readonly<Record<ErrorCode, number>> = {
  'bad-request': EXIT_FAILED,
  'unsupported-version': EXIT_FAILED,
  'unknown-command': EXIT_FAILED,
  'unknown-service': EXIT_UNKNOWN_SERVICE,
  'too-large': EXIT_FAILED,
  'permission-denied': EXIT_CANNOT_START,
  timeout: EXIT_TIMEOUT,
  'shutting-down': EXIT_FAILED,
  internal: EXIT_FAILED,
};

/** The exit codes as `warden --help` lists them. */
export const EXIT_CODES_HELP = `Exit codes:
  0    done
  1    refused or failed; check: problems found
  2    no service of that name
  3    wait: not there by --timeout
  100  wrong usage (an unknown command or flag)
  111  no warden to talk to (nothing on the socket, or permission denied)`;
