import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/stack/app-replica';

export { PROJECT_ROOT };
/** The lock library as published: built into dist-lock by `npm run build:lock` (part of `npm test`). */
export const LOCK_PACKAGE = join(PROJECT_ROOT, 'dist-lock');

/** Fails a suite that drives the built package when it was not built. */
export function assertLockPackageBuilt(): void {
  if (!existsSync(join(LOCK_PACKAGE, 'index.js'))) {
    throw new Error('dist-lock is missing: run `npm run build:lock` (npm test does)');
  }
}
