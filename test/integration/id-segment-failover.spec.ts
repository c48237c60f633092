import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { SegmentIdWorker } from '../../src/id-worker/id-segment.service';
import { counterKey } from '../../src/id-worker/id-worker.service';
import type { RedisServer } from '../../scripts/stack/redis';
import { ReplicationLinkProxy } from '../support/replication-link-proxy';
import { startTestRedis } from '../support/shared-stack';

/** Draws `count` ids in hand-out order. */
async function draw(worker: SegmentIdWorker, count: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  while (ids.length < count) {
    ids.push(worker.take('order') ?? (await worker.nextId('order')));
  }
  return ids;
}

/**
 * Segment ids through a failover that loses a block reservation (issue 21, defect 4): the master's
 * last INCRBY never reached its replica, which is then promoted with a counter one block behind.
 */
describe('SegmentIdWorker through a failover that loses a block reservation', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let proxy: ReplicationLinkProxy;
  const clients: Redis[] = [];

  beforeAll(async () => {
    master = await startTestRedis('redis-ids-master');
    proxy = await ReplicationLinkProxy.start(master.port);
    replica = await startTestRedis('redis-ids-replica', { replicaOf: proxy.port });
  });
  afterAll(async () => {
    clients.forEach((redis) => redis.disconnect());
    await replica?.stop();
    await proxy?.stop();
    await master?.stop();
  });

  it('hands out no id twice when two workers draw in the same second on the promoted replica', async () => {
    const onMaster = new Redis(master.url, { maxRetriesPerRequest: 1 });
    const onReplica = new Redis(replica.url, { maxRetriesPerRequest: 1 });
    onMaster.on('error', () => undefined);
    clients.push(onMaster, onReplica);
    while (!/master_link_status:up/.test(await onReplica.info('replication'))) {
      await sleep(50);
    }
    // Every id below is in one second of the workers' clock: a repeated counter value repeats the id.
    const second = Date.now();
    const key = counterKey('order', Math.floor(second / 1000));
    const first = new SegmentIdWorker(onMaster, () => second, 100);
    const issued = await draw(first, 10);
    while ((await onReplica.get(key)) !== (await onMaster.get(key))) {
      await sleep(10);
    }
    // The replica stops receiving; the worker's refill reserves the next block on the master only.
    proxy.pause();
    issued.push(...(await draw(first, 120)));
    expect(Number(await onMaster.get(key))).toBeGreaterThan(Number(await onReplica.get(key)));
    await master.process.kill();
    await onReplica.replicaof('NO', 'ONE');
    // The first worker goes on with the block it holds; a second one reserves on the promoted replica.
    const second2 = new SegmentIdWorker(onReplica, () => second, 100);
    const after = [...(await draw(first, 50)), ...(await draw(second2, 150))];
    const all = [...issued, ...after].map(String);
    expect(new Set(all).size).toBe(all.length);
  });
});
