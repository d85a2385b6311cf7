#!/usr/bin/env node
/** The `warden` command of the npm package (the release's single executable starts at sea-main.ts). */
import { runWarden } from './run-warden.js';

await runWarden(process.argv.slice(2), async () => {
  // The build bundles boot.js and its imports into one file (scripts/bundle.mjs): one module
  // to load instead of dozens. A string variable keeps tsc from looking for it at compile time.
  const bundle: string = './boot.bundle.js';
  return (await import(bundle).catch((err: NodeJS.ErrnoException) => {
    // A tsc-only build has no bundle: the modules it was made from do the same, a little slower.
    if (err.code === 'ERR_MODULE_NOT_FOUND') return import('./boot.js');
    throw err;
  })) as typeof import('./boot.js');
});
