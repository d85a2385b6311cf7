import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** What core and protocol never touch: the clock, timers, the process, I/O. */
const PURE_GLOBALS = ['Date', 'performance', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'process', 'fetch', 'Buffer'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'release/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // The arrows of docs/architecture.md: which folder of src/ may import which. Each rule also
  // catches what no-restricted-imports does not see: a dynamic import(), a type's
  // `typeof import('…')` and TypeScript's `import x = require('…')`.
  arrows('src/core', '^(?!\\./)', 'core is a leaf and pure: it imports only its own files, no other folder, no Node built-in, no package', {
    // No clock, no timer, no process: time and the world come in as values.
    globals: PURE_GLOBALS,
  }),
  arrows('src/protocol', '^(?!\\./|\\.\\./core/)', 'protocol is a leaf beside core: it imports only core, no Node built-in and no package', {
    globals: PURE_GLOBALS,
  }),
  arrows('src/config', '^(\\.\\./)+(adapters|daemon|cli|stack)/', 'config turns files into specs: it imports core and protocol, never adapters, daemon, cli or stack'),
  arrows('src/adapters', '^(\\.\\./)+(config|daemon|cli|stack)/', 'adapters are the edges: they import core and protocol, never config, daemon, cli or stack'),
  arrows('src/daemon', '^(\\.\\./)+(cli|stack)/', 'the daemon never imports cli or stack'),
  arrows('src/cli', '^(\\.\\./)+(stack/|daemon/(?!init\\.js$))', 'cli imports of the daemon only daemon/init.js (for boot), and never stack'),
  arrows('src/stack', '^(\\.\\./)+(core|config|daemon|cli)/', 'the stack is a user of warden: it never imports core, config, daemon or cli'),
  // Init reaches the world through its edges alone (daemon/init-edges.ts): no process, no timer of its own.
  { files: ['src/daemon/init.ts'], rules: { 'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'setImmediate'] } },
  // Comes after the stack's rule, which it replaces for the webapp's files.
  arrows('src/stack/webapp', '^\\.\\./', "the webapp's image copies its folder alone: it imports nothing outside it"),
);

/**
 * Lint settings for the files of `folder` (.ts, .cts, .mts): imports whose path matches
 * `forbidden` are errors (static ones, `import type` and `export … from` included, dynamic
 * `import()` of a literal path, `typeof import()` in a type, and `import x = require()`), and so
 * is a path that climbs back into a folder (`../core/../cli/x.js`), which would walk past the
 * patterns.
 */
function arrows(folder, forbidden, message, extra = {}) {
  const rules = [
    [forbidden, message],
    ['(^|/)[^./][^/]*/\\.\\.(/|$)', 'write the import path without climbing back (no `dir/../`): the arrows are checked on the path as written'],
  ];
  // esquery's regex literal cannot hold a slash, even escaped.
  const inSelector = (regex) => regex.replaceAll('/', '\\x2F');
  return {
    files: [`${folder}/**/*.{ts,cts,mts}`],
    rules: {
      'no-restricted-imports': ['error', { patterns: rules.map(([regex, message]) => ({ regex, message })) }],
      'no-restricted-syntax': [
        'error',
        ...rules.flatMap(([regex, message]) =>
          ['ImportExpression[source.value', 'TSImportType[source.value', 'TSExternalModuleReference[expression.value'].map((node) => ({
            selector: `${node}=/${inSelector(regex)}/]`,
            message,
          })),
        ),
      ],
      ...(extra.globals ? { 'no-restricted-globals': ['error', ...extra.globals] } : {}),
    },
  };
}
