#!/usr/bin/env node
/** The `warden` command of the npm package (the release's single executable starts at sea-main.ts). */
import { runWarden } from './run-warden.js';

/**
 * The build bundles a module and its imports into one file (scripts/bundle.mjs): one module to
 * load instead of dozens. A tsc-only build has none: the modules it was made from do the same, a
 * little slower. `bundle` is a string variable so that tsc does not look for it at compile time.
 */
async function bundled<T>(bundle: string, modules: () => Promise<T>): Promise<T> {
  return (await import(bundle).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_MODULE_NOT_FOUND') return modules();
    throw err;
  })) as T;
}

await runWarden(process.argv.slice(2), {
  boot: () => bundled('./boot.bundle.js', () => import('./boot.js')),
  fastPath: () => bundled('./fast-path.bundle.js', () => import('./fast-path.js')),
});
