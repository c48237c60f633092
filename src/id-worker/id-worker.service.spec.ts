import type { Redis } from 'ioredis';
import { IdSequenceExhaustedError } from './id-worker.errors';
import { composeId, counterKey, decomposeId, ID_EPOCH_SECONDS, IdWorker } from './id-worker.service';

/** A fake Redis that answers the id script from an in-memory counter per key. */
function fakeRedis(start = 0) {
  const counters = new Map<string, number>();
  const keys: string[] = [];
  const redis = {
    evalsha: (_sha: string, _n: number, key: string) => {
      keys.push(key);
      counters.set(key, (counters.get(key) ?? start) + 1);
      return Promise.resolve(counters.get(key));
    },
  } as unknown as Redis;
  return { redis, keys };
}

describe(IdWorker.name, () => {
  it('composes (seconds since 2022-01-01) << 32 | daily sequence', async () => {
    const { redis, keys } = fakeRedis();
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const worker = new IdWorker(redis, () => now);
    const id = await worker.nextId('order');
    expect(id).toBe((BigInt(now / 1000 - ID_EPOCH_SECONDS) << 32n) | 1n);
    expect(id > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(keys).toEqual(['icr:{order}:2026:11:22']);
    expect(decomposeId(id)).toEqual({ epochSeconds: now / 1000, sequence: 1 });
  });

  it('uses the UTC day for the counter key', () => {
    expect(counterKey('order', Date.UTC(2026, 0, 1, 23, 59, 59) / 1000)).toBe('icr:{order}:2026:01:01');
    expect(counterKey('order', Date.UTC(2026, 0, 2, 0, 0, 0) / 1000)).toBe('icr:{order}:2026:01:02');
  });

  it('keeps increasing when the clock steps back', async () => {
    const { redis } = fakeRedis();
    let now = Date.UTC(2026, 5, 1, 10, 0, 0);
    const worker = new IdWorker(redis, () => now);
    const first = await worker.nextId('order');
    now -= 5000;
    expect(await worker.nextId('order')).toBeGreaterThan(first);
  });

  it('refuses a sequence beyond 2^32-1 with a typed error instead of wrapping', async () => {
    const { redis } = fakeRedis(2 ** 32 - 1);
    const worker = new IdWorker(redis, () => Date.UTC(2026, 5, 1));
    await expect(worker.nextId('order')).rejects.toBeInstanceOf(IdSequenceExhaustedError);
    expect(() => composeId(ID_EPOCH_SECONDS, 2 ** 32)).toThrow(IdSequenceExhaustedError);
  });
});
