/**
 * The package's jest project: unit specs beside the code and the integration suites in test/. Shared by
 * jest.config.js here (`npm test -w @seckill/lock`) and the repository's jest.config.js (`npm test`).
 * The tests import the sources by relative path; only the child processes of the package's own tests
 * load the build (dist/), as a user would.
 * @type {import('jest').Config}
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  displayName: 'lock',
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/timeout.ts'],
};
