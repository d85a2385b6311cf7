// Bundles `warden boot` (dist/src/cli/boot.js and all it imports) into one file: PID 1 then
// starts from a single module instead of resolving and linking dozens (~20 ms less boot).
// koffi (native) and chokidar (loaded after the first services start) stay external.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli/boot.js'],
  outfile: 'dist/src/cli/boot.bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi', 'chokidar'],
  // Bundled CommonJS dependencies (pino) call require() for Node's own modules.
  banner: { js: "import { createRequire as __wardenRequire } from 'node:module'; const require = __wardenRequire(import.meta.url);" },
  logLevel: 'warning',
});
