/** @type {import('jest').Config} */
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

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The lock package (packages/lock) from its TypeScript sources, as tsconfig.json's paths do for tsc;
  // only app replicas started as processes (node dist/main.js) load its build.
  moduleNameMapper: {
    '^@seckill/lock$': '<rootDir>/packages/lock/src/index.ts',
    '^@seckill/lock/(nest|mysql|zookeeper|lua)$': '<rootDir>/packages/lock/src/$1.ts',
  },
  // ESM-only dependencies required from CommonJS (Node 20 loads them natively, jest does not).
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition)/)'],
};

module.exports = {
  // Servers started by integration/e2e tests live under one run folder; teardown reaps leftovers.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/timeout-integration.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/timeout-e2e.ts'],
    },
    // The lock package's own tests (packages/lock/jest.project.js).
    require('./packages/lock/jest.project.js'),
  ],
};
