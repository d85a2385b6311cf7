import { excerpt } from './config-problem.js';
const SERVICE_NAME = /^[A-Za-z0-9_.@-]+$/;

/**
 * Why `name` cannot name a service, or null when it can.
 * Dot names are refused too: directory entries starting with "." are skipped (s6 convention),
 * so such a service could never exist.
 */
export function serviceNameError(name: string): string | null {
  if (name.startsWith('.')) {
    return `service name ${excerpt(name)} starts with ".": such directories are ignored (s6 convention)`;
  }
  if (!SERVICE_NAME.test(name)) {
    return `service name ${excerpt(name)} may contain only letters, digits, "_", ".", "@" and "-"`;
  }
  return null;
}
