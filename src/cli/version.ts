/**
 * warden's version, package.json's. A bundle has it written in by its build (scripts/dist.mjs:
 * the single executable has no package.json beside it); the npm package reads its own.
 */
import { readFileSync } from 'node:fs';

/** Replaced with package.json's version, a string literal, by the builds that bundle the CLI. */
declare const WARDEN_VERSION: string | undefined;

/** The version `warden --version` prints. */
export function wardenVersion(): string {
  if (typeof WARDEN_VERSION === 'string') return WARDEN_VERSION;
  // dist/src/cli/version.js → the package's root.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
