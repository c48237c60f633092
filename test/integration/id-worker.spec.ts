import { Redis } from 'ioredis';
import { composeId, counterKey, decomposeId, IdWorker } from '../../src/id-worker/id-worker.service';
import type { RedisServer } from '../../scripts/stack/redis';
import type { IdsResult } from '../support/child-worker';
import { ChildWorker } from '../support/child-worker-client';
import { startTestRedis } from '../support/shared-stack';

describe('IdWorker (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  const workers: ChildWorker[] = [];

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    redis?.disconnect();
    await server?.stop();
  });

  it('hands out 30,000 distinct ids to 300 tasks in 3 processes, increasing along each task', async () => {
    workers.push(...(await Promise.all([1, 2, 3].map(() => ChildWorker.start()))));
    const results = await Promise.all(
      workers.map((worker) =>
        worker.request<IdsResult>({ type: 'ids', redisUrl: server.url, tasks: 100, idsPerTask: 100 }, 'ids'),
      ),
    );
    const all = results.flatMap((result) => result.inCompletionOrder.map(BigInt));
    expect(all).toHaveLength(30_000);
    expect(new Set(all).size).toBe(30_000);
    // Completion order across a process's concurrent tasks is not promised: while the script is
    // being loaded, some calls fail with NOSCRIPT and are re-sent with their (earlier) second.
    for (const result of results) {
      for (const task of result.perTask) {
        expect(task.map(BigInt)).toEqual([...task.map(BigInt)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
    }
    expect(all.every((id) => id > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
  });

  it('runs next-id.lua: counts per UTC day and expires the counter after the next day', async () => {
    const worker = new IdWorker(redis, () => Date.UTC(2030, 0, 15, 12));
    const id = await worker.nextId('test');
    const key = counterKey('test', Date.UTC(2030, 0, 15, 12) / 1000);
    // A fresh counter starts above what the day could have handed out by now (40 per ms since midnight).
    const first = Number(await redis.get(key));
    expect(first).toBeGreaterThanOrEqual(1);
    expect(await redis.expiretime(key)).toBe(Date.UTC(2030, 0, 17) / 1000);
    expect(id).toBe(composeId(Date.UTC(2030, 0, 15, 12) / 1000, first));
    expect(decomposeId(await worker.nextId('test')).sequence).toBe(first + 1);
  });

  it('never repeats an id when the day’s counter is lost (Redis restarted empty) within the same second', async () => {
    const now = Date.UTC(2030, 0, 16, 0, 0, 30);
    const worker = new IdWorker(redis, () => now);
    const before = await Promise.all(Array.from({ length: 500 }, () => worker.nextId('lost')));
    // Within the assumption (under 40,000 ids a second since the counter started): 500 in ≥ 50 ms.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await redis.del(counterKey('lost', now / 1000));
    const after = await Promise.all(Array.from({ length: 500 }, () => worker.nextId('lost')));
    expect(new Set([...before, ...after].map(String)).size).toBe(1000);
  });
});
