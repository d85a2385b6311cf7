// Bundles `warden boot` (dist/src/cli/boot.js and all it imports) into one file: PID 1 then
// starts from a single module instead of resolving and linking dozens (~20 ms less boot).
// koffi (native) and chokidar (loaded after the first services start) stay external.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

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
  // Bundled CommonJS dependencies (pino) call require() for Node's own modules.
  banner: { js: "import { createRequire as __wardenRequire } from 'node:module'; const require = __wardenRequire(import.meta.url);" },
  charset: 'ascii',
  // The source stays in PID 1's heap (see below): no comments or indentation, a third less.
  // Names are kept, so stack traces in warden's log still read.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
// V8 keeps a script's source in the heap for PID 1's whole life (lazy compilation needs it), and
// one character above U+00FF anywhere makes it a two-byte string: twice the memory for the whole
// file. `charset: 'ascii'` escapes strings and regexps; what is left is in comments.
const text = outputFiles[0].text.replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
writeFileSync(outfile, text);
