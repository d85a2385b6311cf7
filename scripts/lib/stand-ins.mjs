// What pino brings along for features PID 1 never uses, answered in warden's bundles by
// stand-ins: loading Node's worker_threads and assert costs boot ~2.5 ms; node:module brings
// Node's ES module loader (the npm build has it loaded anyway, the single executable does not). pino's transports run
// in worker threads (thread-stream); warden writes its log itself (src/adapters/logger.ts), so a
// transport asked for in a bundle fails loudly. sonic-boom only asserts that its fd is a number.
const STAND_INS = {
  worker_threads: 'module.exports = { isMainThread: true };',
  'thread-stream': "module.exports = class ThreadStream { constructor() { throw new Error(\"pino transports (worker threads) are left out of warden's bundles\"); } };",
  assert: 'module.exports = function assert(ok, message) { if (!ok) throw new Error(message); };',
  // pino's transports are made with createRequire (and loading node:module loads Node's ES module loader).
  module: "module.exports = { createRequire() { throw new Error(\"pino transports (createRequire) are left out of warden's bundles\"); } };",
};

/**
 * The esbuild plugin that answers dependencies' imports of `names` (default: all of the above)
 * with the stand-ins. The packages in `realFor` get the real modules: a bundle with the CLI in
 * it gives yargs the real assert and node:module (it needs them), and pino the stand-ins, so that
 * PID 1, which never loads yargs, loads neither.
 */
export function standIns(names = Object.keys(STAND_INS), { realFor = [] } = {}) {
  return {
    name: 'pid1-stand-ins',
    setup(b) {
      const filter = new RegExp(`^(node:)?(${names.join('|')})$`);
      const real = (importer) => realFor.some((pkg) => importer.includes(`/node_modules/${pkg}/`));
      // Only for dependencies: warden's own code gets the real modules, should it ever import them.
      b.onResolve({ filter }, (args) =>
        args.importer.includes('/node_modules/') && !real(args.importer) ? { path: args.path.replace(/^node:/, ''), namespace: 'stand-in' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({ contents: STAND_INS[args.path], loader: 'js' }));
    },
  };
}

/**
 * V8 keeps a script's source in the heap for PID 1's whole life (lazy compilation needs it), and
 * one character above U+00FF anywhere makes it a two-byte string: twice the memory for the whole
 * file. esbuild's `charset: 'ascii'` escapes strings and regexps; this escapes what is left (in
 * comments).
 */
export function asciiOnly(text) {
  return text.replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}
