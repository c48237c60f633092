// What `bench:seckill` reads of MySQL (orders landed, queries asked) and the backlog it writes to Redis.
import { Redis } from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { SegmentIdWorker } from '../src/id-worker/id-segment.service';
import { OrderAdmissionStore } from '../src/order/async/order-admission.store';
import type { LoadResult } from './seckill-load';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function count(db: Connection, sql: string, args: unknown[] = []): Promise<number> {
  const [rows] = (await db.query(sql, args)) as unknown as [Record<string, string | number>[]];
  return Number(Object.values(rows[0])[0]);
}

const ordersOf = (db: Connection, voucherId: string) =>
  count(db, 'SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = ?', [voucherId]);

export async function questions(db: Connection): Promise<number> {
  const [rows] = (await db.query("SHOW GLOBAL STATUS LIKE 'Questions'")) as unknown as [{ Value: string }[]];
  return Number(rows[0].Value);
}

export async function waitForOrders(db: Connection, voucherId: string, expected: number, timeoutMs = 300_000) {
  const deadline = performance.now() + timeoutMs;
  let n = 0;
  while ((n = await ordersOf(db, voucherId)) < expected) {
    if (performance.now() > deadline) {
      throw new Error(`voucher ${voucherId}: ${n} of ${expected} orders in MySQL after ${timeoutMs} ms`);
    }
    await sleep(10);
  }
  return performance.now();
}

/**
 * A row's `settle`: until the consumers have persisted its accepted orders. Each row then starts with
 * them idle, and their work counts in the row's CPU per request.
 */
export function untilPersisted(db: Connection, voucherId: string) {
  return (result: LoadResult) => waitForOrders(db, voucherId, result.statuses.get(202) ?? 0);
}

/** Fills a stream with `total` accepted orders through the admission script itself (as 202s would). */
export async function fillBacklog(redisUrl: string, voucherId: string, total: number): Promise<void> {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  try {
    const store = new OrderAdmissionStore(redis);
    const ids = new SegmentIdWorker(redis, () => Date.now(), 10_000);
    let next = 0;
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next < total) {
          const userId = String(5_000_000 + next++);
          const orderId = (await ids.nextId('order')).toString();
          const { admission } = await store.admit({ voucherId, userId, orderId, maxBacklog: 100_000_000 });
          if (admission !== 'accepted') {
            throw new Error(`backlog fill: ${admission}`);
          }
        }
      }),
    );
  } finally {
    redis.disconnect();
  }
}
