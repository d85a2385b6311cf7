import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
  // catches a dynamic import(), which no-restricted-imports does not see.
  arrows('src/core', '^\\.\\./', 'core is a leaf: it imports nothing outside core', {
    // Core is pure: no Node built-ins, no I/O, no clock.
    patterns: [{ group: ['node:*', 'fs', 'child_process', 'os'], message: 'core is pure: no Node built-ins' }],
    globals: ['Date', 'setTimeout', 'setInterval', 'process'],
  }),
  arrows('src/protocol', '^(?!\\./|\\.\\./core/)', 'protocol is a leaf beside core: it imports only core, no Node built-in and no package', {
    globals: ['process'],
  }),
  arrows('src/config', '^(\\.\\./)+(adapters|daemon|cli|stack)/', 'config turns files into specs: it imports core and protocol, never adapters, daemon, cli or stack'),
  arrows('src/adapters', '^(\\.\\./)+(config|daemon|cli|stack)/', 'adapters are the edges: they import core and protocol, never config, daemon, cli or stack'),
  arrows('src/daemon', '^(\\.\\./)+(cli|stack)/', 'the daemon never imports cli or stack'),
  arrows('src/cli', '^(\\.\\./)+(stack/|daemon/(?!init\\.js$))', 'cli imports of the daemon only daemon/init.js (for boot), and never stack'),
  arrows('src/stack', '^(\\.\\./)+(core|config|daemon|cli)/', 'the stack is a user of warden: it never imports core, config, daemon or cli'),
  // Comes after the stack's rule, which it replaces for the webapp's files.
  arrows('src/stack/webapp', '^\\.\\./', "the webapp's image copies its folder alone: it imports nothing outside it"),
);

/**
 * Lint settings for the files of `folder`: imports whose path matches `forbidden` are errors
 * (static ones, `import type` included, and dynamic `import()` of a literal path).
 */
function arrows(folder, forbidden, message, extra = {}) {
  // esquery's regex literal cannot hold a slash, even escaped.
  const inSelector = forbidden.replaceAll('/', '\\x2F');
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...(extra.patterns ?? []), { regex: forbidden, message }] }],
      'no-restricted-syntax': ['error', { selector: `ImportExpression[source.value=/${inSelector}/]`, message }],
      ...(extra.globals ? { 'no-restricted-globals': ['error', ...extra.globals] } : {}),
    },
  };
}
