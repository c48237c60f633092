import { Redis } from 'ioredis';
import { SegmentIdWorker } from '../../src/id-worker/id-segment.service';
import { counterKey, decomposeId, IdWorker } from '../../src/id-worker/id-worker.service';
import { RedisServer } from '../../scripts/stack/redis';
import { testDir } from '../support/shared-stack';

/** One "replica": its own connection and worker, as a separate process would have. */
function replica(url: string, segmentSize: number, clock: () => number = () => Date.now()) {
  const redis = new Redis(url);
  return { redis, worker: new SegmentIdWorker(redis, clock, segmentSize) };
}

/** Ids in the order they were handed out (one caller, so completion order is hand-out order). */
async function draw(worker: SegmentIdWorker, count: number, prefix = 'order'): Promise<bigint[]> {
  const ids: bigint[] = [];
  while (ids.length < count) {
    ids.push(worker.take(prefix) ?? (await worker.nextId(prefix)));
    if (ids.length % 50 === 0) {
      // Let the other replicas and the prefetch run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return ids;
}

function expectIncreasing(ids: bigint[]) {
  const firstDrop = ids.findIndex((id, i) => i > 0 && id <= ids[i - 1]);
  expect(firstDrop < 0 ? 'increasing' : `${ids[firstDrop - 1]} then ${ids[firstDrop]} at ${firstDrop}`).toBe(
    'increasing',
  );
}

describe('SegmentIdWorker (IdWorker segment mode) on a durable Redis', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start(testDir('redis-ids'), 'redis-ids', { durable: true });
  });
  afterAll(() => server?.stop());

  it('hands out distinct ids across 3 replicas and their restarts, and across a Redis crash', async () => {
    const all: bigint[] = [];
    for (let generation = 0; generation < 2; generation++) {
      const replicas = [1, 2, 3].map(() => replica(server.url, 97));
      try {
        const drawn = await Promise.all(replicas.map(({ worker }) => draw(worker, 5000)));
        for (const ids of drawn) {
          // Handed out in increasing order within a replica.
          expectIncreasing(ids);
          all.push(...ids);
        }
      } finally {
        replicas.forEach(({ redis }) => redis.disconnect());
      }
      // Between generations: every replica "restarted", and Redis was SIGKILLed and came back from its AOF.
      await server.process.kill();
      await server.process.start();
    }
    expect(all).toHaveLength(30_000);
    expect(new Set(all.map(String)).size).toBe(30_000);
  });

  it('keeps the IdWorker layout (seconds << 32 | counter) and shares the counter with the per-id mode', async () => {
    const redis = new Redis(server.url);
    try {
      const perId = new IdWorker(redis, () => Date.now());
      const { worker } = { worker: new SegmentIdWorker(redis, () => Date.now(), 50) };
      const a = await perId.nextId('mixed');
      const b = await worker.nextId('mixed');
      const c = await perId.nextId('mixed');
      const ids = [a, b, c];
      expect(new Set(ids.map(String)).size).toBe(3);
      const seconds = Math.floor(Date.now() / 1000);
      for (const id of ids) {
        expect(Math.abs(decomposeId(id).epochSeconds - seconds)).toBeLessThanOrEqual(2);
      }
      // The block came after a's number (at the clock floor, if that moved past it) and c after the block.
      expect(decomposeId(b).sequence).toBeGreaterThan(decomposeId(a).sequence);
      expect(decomposeId(c).sequence).toBe(decomposeId(b).sequence + 50);
    } finally {
      redis.disconnect();
    }
  });

  it('drops a block when the UTC day turns, so an id never pairs one day’s counter with another day', async () => {
    let now = Date.UTC(2026, 0, 1, 23, 59, 59);
    const redis = new Redis(server.url);
    try {
      const worker = new SegmentIdWorker(redis, () => now, 1000);
      const before = await worker.nextId('day');
      now += 2000;
      const after = await worker.nextId('day');
      // A new day's counter: its own numbering, and the id is still larger.
      expect(after > before).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('never hands out a number twice when the counter is one block behind (a promoted replica missed a reservation)', async () => {
    const redis = new Redis(server.url);
    try {
      for (let attempt = 0; ; attempt++) {
        // All within one second, where a repeated counter value would repeat the id.
        await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
        // A prefix of its own: the other tests here reserve blocks faster than the clock floor rises
        // (40,000 a second), and a counter ahead of the clock is outside what the floor can repair.
        const first = new SegmentIdWorker(redis, () => Date.now(), 1000);
        const issued = await draw(first, 10, 'promoted');
        const key = counterKey('promoted', Math.floor(Date.now() / 1000));
        // The master had reserved that block; the replica promoted in its place never got the INCRBY.
        await redis.set(key, Number(await redis.get(key)) - 1000, 'KEEPTTL');
        // A promotion takes longer than the clock floor needs to pass one block (25 ms for 1,000).
        await new Promise((resolve) => setTimeout(resolve, 30));
        const second = new SegmentIdWorker(redis, () => Date.now(), 1000);
        const after = await draw(second, 10, 'promoted');
        const seconds = new Set([...issued, ...after].map((id) => decomposeId(id).epochSeconds));
        if (seconds.size > 1 && attempt < 3) {
          continue;
        }
        expect(seconds.size).toBe(1);
        expect(new Set([...issued, ...after].map(String)).size).toBe(20);
        return;
      }
    } finally {
      redis.disconnect();
    }
  });
});
