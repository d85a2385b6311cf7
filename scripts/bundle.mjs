// Bundles `warden boot` (dist/src/cli/boot.js and all it imports) into one file: PID 1 then
// starts from a single module instead of resolving and linking dozens (~20 ms less boot).
// koffi (native) and chokidar (loaded after the first services start) stay external.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { asciiOnly, standIns } from './lib/stand-ins.mjs';

const outfile = 'dist/src/cli/boot.bundle.js';

const { outputFiles } = await build({
  entryPoints: ['dist/src/cli/boot.js'],
  outfile,
  write: false,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi', 'chokidar'],
  plugins: [standIns()],
  // Bundled CommonJS dependencies (pino) call require() for Node's own modules.
  banner: { js: "import { createRequire as __wardenRequire } from 'node:module'; const require = __wardenRequire(import.meta.url);" },
  charset: 'ascii',
  // The source stays in PID 1's heap (lib/stand-ins.mjs): no comments or indentation, a third
  // less. Names are kept, so stack traces in warden's log still read.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
writeFileSync(outfile, asciiOnly(outputFiles[0].text));

// The stack's Serf handler as one CommonJS file with its dependencies (handlebars, execa): the
// balancer image has no Node and runs it with `warden js` (src/cli/run-script.ts).
const handler = await build({
  entryPoints: ['dist/src/stack/serf-handler/main.js'],
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi', '@koromix/*'],
  banner: { js: 'var __wardenMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__wardenMetaUrl' },
  logLevel: 'warning',
});
writeFileSync('dist/src/stack/serf-handler/main.bundle.cjs', handler.outputFiles[0].text);

// The control commands' fast path (src/cli/fast-path.ts: status, health, up, down … without
// yargs), which probes run every few seconds: one module to load instead of a dozen. notify's
// sendto (koffi) is imported only when notify runs: it stays a module of its own.
const fastPath = await build({
  entryPoints: ['dist/src/cli/fast-path.js'],
  write: false,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['../adapters/notify-socket.js'],
  charset: 'ascii',
  logLevel: 'warning',
});
writeFileSync('dist/src/cli/fast-path.bundle.js', asciiOnly(fastPath.outputFiles[0].text));

// The same as CommonJS, for the npm package's `warden` (src/cli/warden.cts): a client that
// requires it never starts Node's ES module loader. notify's import() stays an import().
const fastPathCjs = await build({
  entryPoints: ['dist/src/cli/fast-path.js'],
  write: false,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['../adapters/notify-socket.js'],
  charset: 'ascii',
  logLevel: 'warning',
});
writeFileSync('dist/src/cli/fast-path.bundle.cjs', asciiOnly(fastPathCjs.outputFiles[0].text));
