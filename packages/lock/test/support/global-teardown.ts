// The repository's global teardown (stops the MariaDB, reaps leftover servers); see repo.ts.
export { default } from '../../../../test/support/global-teardown';
