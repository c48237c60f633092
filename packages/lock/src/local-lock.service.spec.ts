import { LocalLockService } from './local-lock.service';
import { LockTimeoutError } from './lock.errors';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(LocalLockService.name, () => {
  it('serialises sections of one name within the process', async () => {
    const locks = new LocalLockService();
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        locks.withLock('k', {}, async () => {
          maxInside = Math.max(maxInside, ++inside);
          await sleep(2);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  it('times out a waiter with LockTimeoutError and lets later waiters through', async () => {
    const locks = new LocalLockService();
    const holder = locks.withLock('k', {}, () => sleep(100));
    await expect(locks.withLock('k', { waitTime: 20 }, () => Promise.resolve())).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    await holder;
    await expect(locks.withLock('k', { waitTime: 20 }, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
