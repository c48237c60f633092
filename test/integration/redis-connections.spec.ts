import { LockService } from '@seckill/lock';
import type { AppRedis } from '../../src/redis/redis-connections';
import { REDIS_CLIENT, REDIS_LOCK_CLIENT, REDIS_SUBSCRIBER } from '../../src/redis/redis.tokens';
import { startTestApp, TestApp } from '../support/test-app';

describe('Redis connections (real Redis)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  /**
   * Holds the app's command connection for 1 s: ioredis sends a connection's next auto-pipeline
   * only after the one in flight is answered, and a blocking read is answered when it times out.
   * Returns the order in which a lock taken meanwhile and the blocked connection came back.
   */
  async function lockWhileAppConnectionWaits(locks: LockService): Promise<string[]> {
    const events: string[] = [];
    const blocked = t.app
      .get<AppRedis>(REDIS_CLIENT)
      .blpop(`test:nothing:${Date.now()}`, 1)
      .then(() => events.push('app connection answered'));
    await locks.withLock(`test:own-connection:${Date.now()}`, { waitTime: 5000 }, () => {
      events.push('lock held');
      return Promise.resolve();
    });
    await blocked;
    return events;
  }

  it("takes its locks on a connection of their own, not behind the app's pipeline", async () => {
    expect(t.app.get(REDIS_LOCK_CLIENT)).not.toBe(t.app.get(REDIS_CLIENT));
    expect(await lockWhileAppConnectionWaits(t.app.get(LockService))).toEqual(['lock held', 'app connection answered']);
  });

  it("negative control: a lock on the app's connection waits for its pipeline", async () => {
    const shared = new LockService({
      instanceId: 'shared-connection',
      nodes: [t.app.get<AppRedis>(REDIS_CLIENT)],
      subscriber: t.app.get<AppRedis>(REDIS_SUBSCRIBER),
    });
    try {
      expect(await lockWhileAppConnectionWaits(shared)).toEqual(['app connection answered', 'lock held']);
    } finally {
      shared.close();
    }
  });
});
