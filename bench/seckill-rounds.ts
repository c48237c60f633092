// Configurations of the sale measured in interleaved rounds on one stack (`bench:seckill`'s headline
// pair, `bench:seckill:pairs`): the VM's speed drifts by up to 2× between rows minutes apart, so a
// ratio is taken per round, between rows seconds apart.
import type { Redis } from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { createSeckillVoucher } from '../scripts/stack/api-client';
import type { LocalStack } from '../scripts/stack/local-stack';
import { measured, meterFor, sum, type startReplicas } from './seckill-box';
import { untilPersisted } from './seckill-db';
import { load, warmUp, type Buyers, type LoadResult } from './seckill-load';
import { fmt } from './seckill-report';

type Cluster = Awaited<ReturnType<typeof startReplicas>>;

/** One configuration's replicas; `async`: a row's cost includes its consumers persisting its orders. */
export interface RoundsEntry {
  name: string;
  cluster: Cluster;
  async: boolean;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
export const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Warms every entry's replicas (WARMUP_S each), then one row per entry per round, the order reversed every round. */
export async function interleavedRounds(options: {
  stack: LocalStack;
  db: Connection;
  redis: Redis;
  entries: RoundsEntry[];
  rounds: number;
  fresh: () => Buyers;
}): Promise<Map<string, LoadResult[]>> {
  const { stack, db, redis, entries, rounds, fresh } = options;
  for (const entry of entries) {
    await warmUp(entry.cluster.url, fresh, entry.async ? (id, result) => untilPersisted(db, id)(result) : undefined);
  }
  const results = new Map<string, LoadResult[]>(entries.map((entry) => [entry.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const entry of round % 2 === 0 ? entries : [...entries].reverse()) {
      const { url } = entry.cluster;
      const voucherId = await createSeckillVoucher(url, 10_000_000);
      const result = await measured(
        meterFor(stack, entry.cluster, redis),
        () => load(`${url}/voucher-order/seckill/${voucherId}`, fresh()),
        entry.async ? untilPersisted(db, voucherId) : undefined,
      );
      results.get(entry.name)!.push(result);
      process.stdout.write(`round ${round + 1}: ${entry.name} ${fmt(result.rps)} req/s\n`);
    }
  }
  return results;
}

/** Per round, the first configuration's req/s over the second's. */
export const ratiosOf = (top: LoadResult[], bottom: LoadResult[]) => top.map((result, i) => result.rps / bottom[i].rps);

/**
 * One row out of a configuration's rounds: mean req/s, CPU, wake-ups and cores busy; the median
 * round's p50 and p99; every answer counted.
 */
export function combined(results: LoadResult[]): LoadResult {
  const statuses = new Map<number, number>();
  for (const result of results) {
    for (const [status, n] of result.statuses) {
      statuses.set(status, (statuses.get(status) ?? 0) + n);
    }
  }
  const meanOf = <K>(maps: (Map<K, number> | undefined)[]) => {
    const present = maps.filter((map): map is Map<K, number> => map !== undefined);
    if (present.length === 0) {
      return undefined;
    }
    return new Map([...present[0].keys()].map((key) => [key, mean(present.map((map) => map.get(key) ?? 0))]));
  };
  return {
    rps: mean(results.map((result) => result.rps)),
    p50: median(results.map((result) => result.p50)),
    p99: median(results.map((result) => result.p99)),
    statuses,
    lastAcceptedAt: Math.max(...results.map((result) => result.lastAcceptedAt)),
    cpu: meanOf(results.map((result) => result.cpu)),
    wakes: meanOf(results.map((result) => result.wakes)),
    busy: mean(results.map((result) => result.busy ?? 0)),
  };
}

/** A configuration's rounds in one line: req/s and p99 per round, replicas' µs per request. */
export function roundsLine(name: string, results: LoadResult[]): string {
  return (
    `${name}: req/s ${results.map((result) => fmt(result.rps)).join(', ')}; p99 ms ` +
    `${results.map((result) => fmt(result.p99)).join(', ')}; replicas µs per request ` +
    `${results.map((result) => (result.cpu?.get('replicas') ?? 0).toFixed(0)).join(', ')}; box µs ` +
    `${results.map((result) => fmt(sum(result.cpu ?? new Map<string, number>()))).join(', ')}`
  );
}
