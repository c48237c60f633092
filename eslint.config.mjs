// @ts-check
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Selectors of import/export specifiers that climb `levels` folders up (they leave the lock library). */
const leavesFolder = (levels) =>
  ['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'ImportExpression'].map((node) => ({
    selector: `${node} > Literal.source[value=/^(\\.\\.\\/){${levels}}/]`,
    message: 'The lock library imports nothing from outside packages/lock/src.',
  }));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'packages/*/dist/**',
      'packages/*/jest.*.js',
      'node_modules/**',
      'coverage/**',
      '.stack/**',
      '.tmp/**',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/unbound-method': 'off',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
    },
  },
  // The lock library (packages/lock) is a package of its own (packages/lock/README.md): it imports
  // nothing from the app and no package but Node's own; only its Nest entry may use @nestjs/common.
  {
    files: ['packages/lock/src/**/*.ts'],
    ignores: [
      'packages/lock/src/nest.ts',
      'packages/lock/src/lock.module.ts',
      'packages/lock/src/distributed-lock.decorator.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!node:|\\./|\\.\\./)', message: 'The lock library depends on no package.' }] },
      ],
    },
  },
  {
    files: [
      'packages/lock/src/nest.ts',
      'packages/lock/src/lock.module.ts',
      'packages/lock/src/distributed-lock.decorator.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!node:|\\./|\\.\\./|@nestjs/common$)',
              message: "The lock library's Nest entry depends on @nestjs/common only.",
            },
          ],
        },
      ],
    },
  },
  {
    // Leaving the library's sources: from src/*.ts any '../', from src/<dir>/*.ts any '../../'.
    files: ['packages/lock/src/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...leavesFolder(1)] },
  },
  {
    files: ['packages/lock/src/*/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...leavesFolder(2)] },
  },
  {
    files: ['packages/lock/src/*/*/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...leavesFolder(3)] },
  },
  {
    // The app (and its tests, scripts and benchmarks) use the library by its name, through its public
    // entries only: no deep import of @seckill/lock, no relative path into packages/.
    files: ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@seckill/lock/(?!(nest|mysql|zookeeper|lua)$)',
              message:
                "Import the lock library from its entries: '@seckill/lock' or '@seckill/lock/{nest,mysql,zookeeper,lua}'.",
            },
            { regex: '/packages/', message: "Import the lock library by its name, '@seckill/lock'." },
          ],
        },
      ],
    },
  },
  {
    // A source file that grows past ~250 lines of code does more than one thing: split it, or say at its
    // top why not (an eslint-disable with its reason). Comments and blank lines do not count, so
    // explaining why never pushes a file over. Tests and benchmarks are not held to it: a suite reads
    // as one list of cases.
    files: ['src/**/*.ts', 'packages/lock/src/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'max-lines': ['error', { max: 250, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
