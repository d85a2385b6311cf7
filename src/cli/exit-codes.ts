/** Exit codes of the CLI, after s6's: 100 for wrong usage, 111 when a system call failed. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 100;
export const EXIT_CANNOT_START = 111;
