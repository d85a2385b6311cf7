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
  charset: 'ascii',
  logLevel: 'warning',
});
// No CommonJS dependency is bundled (their require() of Node's modules would need a
// createRequire banner, and node:module loaded into PID 1): fail here rather than at boot.
if (outputFiles[0].text.includes('__require(')) {
  throw new Error(`${outfile}: a CommonJS module was bundled; make it external or give the bundle a require()`);
}
// V8 keeps a script's source in the heap for PID 1's whole life (lazy compilation needs it), and
// one character above U+00FF anywhere makes it a two-byte string: twice the memory for the whole
// file. `charset: 'ascii'` escapes strings and regexps; what is left is in comments.
const text = outputFiles[0].text.replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
writeFileSync(outfile, text);
