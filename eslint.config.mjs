// ESLint flat config. `npm run lint` runs `tsc --noEmit` first, then this.
// TypeScript files get typescript-eslint's type-aware rules (they read the types from the
// root tsconfig.json through the project service); the .mjs/.js scripts get plain JS rules.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Every TypeScript file in the repository. A file that no tsconfig.json
// includes fails to parse ("not found by the project service"): add its folder to
// tsconfig.json's "include" rather than to an ignore list.
const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];
const TEST_FILES = ['test/**/*.ts', 'test/**/*.mts'];

const JS_RULES = {
  eqeqeq: ['error', 'always', { null: 'ignore' }],
  // `for await (const _ of stream)` drains a stream; a leading underscore marks it unused.
  'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
};

/** Forbids files matching `files` to import from the top-level folders `forbidden`. */
function programBoundary(files, forbidden) {
  return [
    {
      files: [files],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: forbidden.map((folder) => ({
              regex: `^(\\.\\./)+${folder}/`,
              message: `${folder}/ is another program's folder: programs share code through shared/ only.`,
            })),
          },
        ],
      },
    },
  ];
}

export default defineConfig([
  globalIgnores([
    'dist/',
    'cdk.out/',
    'coverage/',
    'node_modules/',
    'runtimes/app/', // generated bundle, copied in by the build
    '.jsii',
    '.jsii.gz',
  ]),

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  js.configs.recommended,

  {
    files: TS_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Promises: the bridge and the runtimes are sockets, child processes and timers. An
      // unawaited or misplaced promise is a lost error or an unhandled rejection that kills
      // the process. (These three are in recommendedTypeChecked already; stated here so
      // nobody turns them off by accident.)
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // `return promise` inside try/catch skips the catch: require `return await` there.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A new member of a union (a frame type, a close code, a log level) must be handled
      // everywhere it is switched on. A `default:` counts for non-union types only.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // `import type` for type-only imports. Compatible with isolatedModules (which only
      // demands `export type` for type re-exports) and with jsii; auto-fixable. Inline
      // `type` in mixed imports, as most of the code already writes them.
      // `typeof import('…')` annotations stay allowed: lib/render/oab-config.ts types a
      // require() of an ESM-typed package that way, and there is no other way to write it.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // `x == null` (null or undefined) stays allowed; every other == / != is a bug magnet.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // tsc's noUnusedLocals covers locals; this also catches unused parameters and imports.
      // A leading underscore marks an intentionally unused one.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      // tsc's noFallthroughCasesInSwitch checks this with types (it knows process.exit()
      // returns never); the untyped core rule only adds false positives.
      'no-fallthrough': 'off',
    },
  },

  {
    files: TEST_FILES,
    rules: {
      // Tests and their harnesses read JSON-RPC frames, logs and synthesized CloudFormation
      // templates as `any` (JSON.parse, toJSON()) and poke at them; a wrong field fails the
      // assertion anyway, so the `any` rules would only demand casts.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // Program boundaries: the bridge, the in-VM programs and the constructs share code only
  // through shared/, which imports from none of them.
  ...programBoundary('bridge/src/**/*.ts', ['runtimes', 'lib']),
  ...programBoundary('runtimes/src/**/*.ts', ['bridge', 'lib']),
  ...programBoundary('lib/**/*.ts', ['bridge', 'runtimes']),
  ...programBoundary('shared/**/*.ts', ['bridge', 'runtimes', 'lib']),

  // Node ESM scripts: scripts/, bench/, and the emulator's official-SDK client.
  {
    files: ['**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: JS_RULES,
  },

  // CommonJS: jest.config.js, bin/cdk-app.js.
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: JS_RULES,
  },
]);
