import { rmSync } from 'node:fs';
import type { MariaDbServer } from '../../scripts/stack/mariadb';
import { reapRegistered } from '../../scripts/stack/pid-registry';

export default async function globalTeardown(): Promise<void> {
  const mariadb = (globalThis as { __MARIADB__?: MariaDbServer }).__MARIADB__;
  await mariadb?.stop();
  const root = process.env.STACK_RUN_DIR;
  if (root) {
    // Anything a crashed test file left running dies here.
    const reaped = reapRegistered(`${root}/pids`);
    if (reaped > 0) {
      process.stderr.write(`global teardown reaped ${reaped} leftover server process(es)\n`);
    }
    rmSync(root, { recursive: true, force: true });
  }
}
