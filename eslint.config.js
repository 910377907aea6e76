// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.porthole-demo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      // Async without await is deliberate in stores: a synchronous throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Layers (issue #14): a protocol adapter knows its wire formats and the VM, never the transport,
    // the HTTP routes or the lifecycle of the sessions that use it.
    files: ['server/src/protocols/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/sessions/**', '**/http/**', '**/ws/**'], message: 'server/src/protocols/ imports nothing from sessions/, http/ or ws/.' }] },
      ],
    },
  },
  {
    // The WebSocket transport is beside the HTTP routes, not above them, and below the sessions
    // that decide who connects and own each connection: it is handed those as functions.
    files: ['server/src/ws/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/http/**', '**/sessions/**'], message: 'server/src/ws/ imports nothing from http/ or sessions/.' }] }],
    },
  },
  {
    // Admission and live connections serve HTTP routes and upgrades alike; they know neither.
    files: ['server/src/sessions/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/http/**'], message: 'server/src/sessions/ imports nothing from http/.' }] }],
    },
  },
  {
    // The access policy is pure decisions over stored records: every caller may use it, it uses no caller.
    files: ['server/src/access/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/sessions/**', '**/http/**', '**/ws/**', '**/protocols/**', '**/connections/**', '**/cluster/**'],
              message: 'server/src/access/ imports only the store, the domain and shared/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The store is the bottom layer: everything that keeps state uses it, so it uses none of them.
    // It may import shared/, crypto/, domain/, errors, log and the one rule of access/ that its
    // SQL enforces (close-time.ts); the rest of access/ reads the store, so it is above it. The
    // configuration reaches it as plain values passed by whoever opens it (main.ts, tests).
    files: ['server/src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/sessions/**', '**/http/**', '**/ws/**', '**/protocols/**', '**/cluster/**', '**/config/**', '**/auth/**',
                '**/audit/**', '**/recording/**', '**/metrics/**', '**/connections/**', '**/flow/**',
                '**/access/**', '!**/access/close-time.js',
              ],
              message: 'server/src/store/ imports nothing above it: of access/ only close-time.ts, and configuration only as values.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['client/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Client layers (issue #14): pages compose the views; the terminal and the screen share only
    // session/ and lib/, which know neither view.
    files: ['client/src/lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/terminal/**', '**/screen/**'], message: 'client/src/lib/ imports nothing from terminal/ or screen/.' }] },
      ],
    },
  },
  {
    files: ['client/src/session/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/terminal/**', '**/screen/**'], message: 'client/src/session/ imports nothing from terminal/ or screen/.' }] },
      ],
    },
  },
  {
    files: ['client/src/screen/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/terminal/**'], message: 'client/src/screen/ imports nothing from terminal/.' }] }],
    },
  },
  {
    // The Files panel (issue #17) is a view beside the terminal: the page composes the two.
    files: ['client/src/files/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/terminal/**', '**/screen/**'], message: 'client/src/files/ imports nothing from terminal/ or screen/.' }] },
      ],
    },
  },
  {
    files: ['client/src/terminal/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/screen/**'], message: 'client/src/terminal/ imports nothing from screen/.' }] }],
    },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', 'deploy/**/*.ts'],
    rules: {
      'no-console': 'off',
      // supertest types response bodies as `any`; tests assert on their shape instead.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
