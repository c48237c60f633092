import { LockTimeoutError } from './lock.errors';
import type { LockExecutor, WithLockOptions } from './lock.service';
import type { LockContext } from './lock.types';

/**
 * In-process mutex per name: the seed's `synchronized`. UNSAFE across replicas — each process has
 * its own — and kept only as the negative control that proves tests can see what the distributed
 * lock prevents (`LOCK_MODE=local`). Not reentrant.
 */
export class LocalLockService implements LockExecutor {
  private readonly tails = new Map<string, Promise<void>>();
  private token = 0;

  async withLock<T>(name: string, options: WithLockOptions, fn: (context: LockContext) => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(name, tail);
    try {
      if (options.waitTime !== undefined && Number.isFinite(options.waitTime)) {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          previous.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.waitTime))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          throw new LockTimeoutError(`Local lock ${name} stayed busy for ${options.waitTime} ms`, name);
        }
      } else {
        await previous;
      }
      return await fn({
        signal: new AbortController().signal,
        fencingToken: ++this.token,
        assertHeld: () => Promise.resolve(),
      });
    } finally {
      release();
      if (this.tails.get(name) === tail) {
        this.tails.delete(name);
      }
    }
  }
}
