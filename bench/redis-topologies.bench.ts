/**
 * `npm run bench:redis-topologies`: the async admission script and lock pairs on one Redis server, on
 * a 3-master Redis Cluster, and on a server with one replica waiting for it (`WAIT 1`: admission +
 * `ORDER_DURABILITY=replicas`, lock pairs + `replicaSync`) — every node durable (AOF, `appendfsync
 * always`), side by side in one run, through the app's own stores and clients (auto-pipelined).
 * Reports ops/s and each master's Redis CPU per op (from `INFO cpu`), so a shard's capacity is
 * ~1,000,000 / (µs per op) per core. Everything shares this machine's cores: the load process is
 * usually the limit, so the per-op CPU is the figure that transfers to real hosts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LockService } from '@seckill/lock';
import { OrderAdmissionStore } from '../src/order/async/order-admission.store';
import { ReplicaConfirmationStore } from '../src/order/async/replica-confirmation.store';
import { createRedisCluster, createRedisConnection, mastersOf, type AppRedis } from '../src/redis/redis-connections';
import { redisNowMs } from '../src/redis/redis-clock';
import { SeckillStateStore } from '../src/voucher/seckill-state.store';
import { RedisServer } from '../scripts/stack/redis';
import { RedisCluster } from '../scripts/stack/redis-cluster';
import { probeTcp } from '../scripts/stack/ports';
import { fmt } from './bench-stats';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const CONCURRENCY = 256;
const VOUCHERS = 24;

async function cpuSeconds(node: Redis): Promise<number> {
  const info = await node.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** Runs `op` from CONCURRENCY loops for DURATION_MS; ops/s and each master's CPU µs per op. */
async function measure(redis: AppRedis, op: (i: number) => Promise<unknown>) {
  const masters = mastersOf(redis);
  const before = await Promise.all(masters.map(cpuSeconds));
  let done = 0;
  let errors = 0;
  const end = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        try {
          await op(worker * 1_000_000 + i);
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await Promise.all(masters.map(cpuSeconds));
  const cpu = after.map((value, i) => value - before[i]);
  const totalCpu = cpu.reduce((a, b) => a + b, 0);
  return {
    perSecond: done / seconds,
    errors,
    masters: masters.length,
    /** Redis CPU per op, all masters together (µs). */
    cpuUsPerOp: (totalCpu * 1e6) / Math.max(1, done),
    /** Share of the ops' CPU each master carried. */
    shares: cpu.map((value) => value / Math.max(1e-9, totalCpu)),
  };
}

async function admissions(redis: AppRedis, waitReplicas = 0) {
  const state = new SeckillStateStore(redis);
  const admission = new OrderAdmissionStore(redis);
  const replicas = new ReplicaConfirmationStore(redis);
  const now = await redisNowMs(redis);
  const vouchers = Array.from({ length: VOUCHERS }, (_, i) => String(900_000 + i));
  for (const voucherId of vouchers) {
    await state.publish(voucherId, {
      stock: 1e9,
      beginTime: new Date(now - 60_000),
      endTime: new Date(now + 3_600_000),
    });
  }
  return measure(redis, async (i) => {
    const voucherId = vouchers[i % VOUCHERS];
    await admission.admit({ voucherId, userId: String(i), orderId: String(1e12 + i), maxBacklog: 1e9 });
    if (
      waitReplicas > 0 &&
      (await replicas.waitForReplicas(voucherId, { replicas: waitReplicas, timeoutMs: 1000 })) < waitReplicas
    ) {
      throw new Error('not confirmed');
    }
  });
}

async function lockPairs(redis: AppRedis, subscriber: AppRedis, replicaSync = 0) {
  const locks = new LockService({
    instanceId: 'bench',
    nodes: [redis],
    subscriber,
    shardedPubSub: redis.isCluster,
    replicaSync: replicaSync > 0 ? { replicas: replicaSync, timeoutMs: 1000 } : undefined,
  });
  try {
    return await measure(redis, async (i) => {
      const handle = await locks.getLock(`bench:${i % 4096}`).lock({ waitTime: 5000 });
      await handle.unlock();
    });
  } finally {
    locks.close();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-redis-cluster-'));
  const started: { stop(): Promise<void> }[] = [];
  const clients: AppRedis[] = [];
  try {
    const server = await RedisServer.start(join(root, 'single'), 'bench-single', { durable: true });
    started.push(server);
    const cluster = await RedisCluster.start(join(root, 'cluster'), 'bench-cluster', { masters: 3, durable: true });
    started.push(cluster);
    const primary = await RedisServer.start(join(root, 'primary'), 'bench-primary', { durable: true });
    started.push(primary);
    const replica = await RedisServer.start(join(root, 'replica'), 'bench-replica', {
      durable: true,
      replicaOf: primary.port,
    });
    started.push(replica);
    const single = createRedisConnection(server.url, 'bench', { autoPipelining: true, commandTimeoutMs: 5000 });
    const singleSub = createRedisConnection(server.url, 'bench-sub');
    const sharded = createRedisCluster(cluster.urls, 'bench', { autoPipelining: true, commandTimeoutMs: 5000 });
    const shardedSub = createRedisCluster(cluster.urls, 'bench-sub', { shardedSubscribers: true });
    const replicated = createRedisConnection(primary.url, 'bench', { autoPipelining: true, commandTimeoutMs: 5000 });
    const replicatedSub = createRedisConnection(primary.url, 'bench-sub');
    clients.push(single, singleSub, sharded, shardedSub, replicated, replicatedSub);
    await new Promise((resolve) => sharded.once('ready', resolve));
    while (!(await probeTcp(replica.port, 'INFO replication\r\n')).includes('master_link_status:up')) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const rows: [string, Awaited<ReturnType<typeof measure>>][] = [];
    // Alternating, so a slower moment of the VM does not land on one side only.
    rows.push(['admission, one server', await admissions(single)]);
    rows.push(['admission, 3-master cluster', await admissions(sharded)]);
    rows.push(['lock pair, one server', await lockPairs(single, singleSub)]);
    rows.push(['lock pair, 3-master cluster', await lockPairs(sharded, shardedSub)]);
    rows.push(['admission, server with a replica, no WAIT', await admissions(replicated)]);
    rows.push(['admission + WAIT 1 (ORDER_DURABILITY=replicas)', await admissions(replicated, 1)]);
    rows.push(['lock pair, server with a replica, no WAIT', await lockPairs(replicated, replicatedSub)]);
    rows.push(['lock pair + replicaSync 1', await lockPairs(replicated, replicatedSub, 1)]);

    const lines = [
      `Redis topologies (${CONCURRENCY} concurrent callers, one load process, ${DURATION_MS / 1000} s per row, AOF always)`,
      '',
      "| row | ops/s | errors | Redis CPU µs/op (all masters) | per-master share | one shard's ops/s per core (1e6 / µs) |",
      '|---|---:|---:|---:|---|---:|',
      ...rows.map(
        ([name, r]) =>
          `| ${name} | ${fmt(r.perSecond)} | ${r.errors} | ${fmt(r.cpuUsPerOp, 1)} | ${r.shares.map((share) => fmt(share * 100) + ' %').join(' / ')} | ${fmt(1e6 / r.cpuUsPerOp)} |`,
      ),
      '',
      `Ratios (cluster / one server): admission ops/s ${fmt(rows[1][1].perSecond / rows[0][1].perSecond, 2)}×, ` +
        `CPU per admission ${fmt(rows[1][1].cpuUsPerOp / rows[0][1].cpuUsPerOp, 2)}×; lock pairs/s ` +
        `${fmt(rows[3][1].perSecond / rows[2][1].perSecond, 2)}×, CPU per pair ${fmt(rows[3][1].cpuUsPerOp / rows[2][1].cpuUsPerOp, 2)}×`,
      `Ratios (WAIT 1 / no WAIT, server with a replica): admission ops/s ${fmt(rows[5][1].perSecond / rows[4][1].perSecond, 2)}×, ` +
        `CPU per admission ${fmt(rows[5][1].cpuUsPerOp / rows[4][1].cpuUsPerOp, 2)}×; lock pairs/s ` +
        `${fmt(rows[7][1].perSecond / rows[6][1].perSecond, 2)}×, CPU per pair ${fmt(rows[7][1].cpuUsPerOp / rows[6][1].cpuUsPerOp, 2)}×`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clients.forEach((client) => client.disconnect());
    for (const server of started.reverse()) {
      await server.stop().catch(() => undefined);
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
