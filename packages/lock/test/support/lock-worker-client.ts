import { join } from 'node:path';
import { ChildWorker } from './repo';

/** A lock user in its own process (lock-worker.ts), which tests can SIGKILL or SIGSTOP. */
export function startLockWorker(): Promise<ChildWorker> {
  return ChildWorker.start(join(__dirname, 'lock-worker.ts'));
}
