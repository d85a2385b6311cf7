// Bundles `warden boot` (dist/src/cli/boot.js and all it imports) into one file: PID 1 then
// starts from a single module instead of resolving and linking dozens (~20 ms less boot).
// koffi (native) and chokidar (loaded after the first services start) stay external.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = 'dist/src/cli/boot.bundle.js';

// What pino brings along for features PID 1 never uses, answered in the bundle by stand-ins:
// loading Node's worker_threads and assert costs boot ~2.5 ms. pino's transports run in worker
// threads (thread-stream); warden writes its log itself (src/adapters/logger.ts), so a transport
// asked for in the bundle fails loudly. sonic-boom only asserts that its fd is a number.
const STAND_INS = {
  worker_threads: 'module.exports = { isMainThread: true };',
  'thread-stream': "module.exports = class ThreadStream { constructor() { throw new Error(\"pino transports (worker threads) are left out of warden's boot bundle\"); } };",
  assert: 'module.exports = function assert(ok, message) { if (!ok) throw new Error(message); };',
};
const standIns = {
  name: 'pid1-stand-ins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${Object.keys(STAND_INS).join('|')})$`);
    // Only for dependencies: warden's own code gets the real modules, should it ever import them.
    b.onResolve({ filter }, (args) =>
      args.importer.includes('/node_modules/') ? { path: args.path.replace(/^node:/, ''), namespace: 'stand-in' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({ contents: STAND_INS[args.path], loader: 'js' }));
  },
};
const { outputFiles } = await build({
  entryPoints: ['dist/src/cli/boot.js'],
  outfile,
  write: false,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi', 'chokidar'],
  plugins: [standIns],
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
