/**
 * `npm test -w @seckill/lock`: the package's project alone. The global setup is the repository's (one
 * isolated MariaDB for the backend contract suite), reached through test/support like every other
 * server the tests use (test/support/repo.ts).
 * @type {import('jest').Config}
 */
module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
  projects: [require('./jest.project.js')],
};
