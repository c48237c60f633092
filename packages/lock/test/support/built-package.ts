import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The package's own folder: `require(PACKAGE_ROOT)` loads the build its package.json points at. */
export const PACKAGE_ROOT = join(__dirname, '..', '..');

/** Fails a suite that drives the built package when it was not built (`npm test` builds it first). */
export function assertPackageBuilt(): void {
  if (!existsSync(join(PACKAGE_ROOT, 'dist', 'index.js'))) {
    throw new Error('packages/lock/dist is missing: run `npm run build -w @seckill/lock` (npm test does)');
  }
}
