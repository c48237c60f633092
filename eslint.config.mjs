// @ts-check
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Selectors of import/export specifiers that climb `levels` folders up (they leave the lock library). */
const leavesFolder = (levels) =>
  ['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'ImportExpression'].map((node) => ({
    selector: `${node} > Literal.source[value=/^(\\.\\.\\/){${levels}}/]`,
    message: 'The lock library imports nothing from outside src/lock.',
  }));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-lock/**',
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
  // The lock library (src/lock) is a package of its own (src/lock/README.md): it imports nothing
  // from the app and no package but Node's own; only its Nest entry may use @nestjs/common.
  {
    files: ['src/lock/**/*.ts'],
    ignores: ['src/lock/nest.ts', 'src/lock/lock.module.ts', 'src/lock/distributed-lock.decorator.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!node:|\\./|\\.\\./)', message: 'The lock library depends on no package.' }] },
      ],
    },
  },
  {
    files: ['src/lock/nest.ts', 'src/lock/lock.module.ts', 'src/lock/distributed-lock.decorator.ts'],
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
    // Leaving the library's folder: from src/lock/*.ts any '../', from src/lock/<dir>/*.ts any '../../'.
    files: ['src/lock/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...leavesFolder(1)] },
  },
  {
    files: ['src/lock/*/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...leavesFolder(2)] },
  },
  {
    files: ['src/lock/*/*/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...leavesFolder(3)] },
  },
  {
    // The app uses the library through its two entries only (src/lock and src/lock/nest).
    files: ['src/**/*.ts'],
    ignores: ['src/lock/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/lock/(?!nest$)[^/]+$',
              message: "Import the lock library from its entries: '…/lock' or '…/lock/nest'.",
            },
          ],
        },
      ],
    },
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
