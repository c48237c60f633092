// The repository's global setup (one isolated MariaDB for the run); see repo.ts.
export { default } from '../../../../test/support/global-setup';
