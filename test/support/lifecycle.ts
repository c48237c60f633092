import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { seckillKeys } from '../../src/voucher/seckill-keys';
import { tokenFor } from './flash-sale';
import { http } from './http';

/** Helpers of the order-lifecycle suites: transitions through the API, the sale read back directly. */
export interface OrderView {
  id: string;
  userId: string;
  state: string;
  status: number | string;
  cancelReason?: string | null;
  payDeadline?: string | null;
  payTime?: string | null;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function placeOrder(baseUrl: string, voucherId: string, userId: string) {
  const response = await http<{ orderId?: string; code?: string }>(
    'POST',
    `${baseUrl}/voucher-order/seckill/${voucherId}`,
    { token: tokenFor(userId) },
  );
  return { userId, status: response.status, code: response.body.code, orderId: response.body.orderId };
}

export async function transition(
  baseUrl: string,
  orderId: string,
  userId: string,
  action: 'pay' | 'cancel' | 'use',
  role: 'user' | 'admin' = 'user',
) {
  const response = await http<OrderView & { code?: string; order?: OrderView }>(
    'POST',
    `${baseUrl}/voucher-order/${orderId}/${action}`,
    { token: tokenFor(userId, role), body: action === 'pay' ? { payType: 1 } : undefined },
  );
  return { status: response.status, body: response.body, retryAfter: response.headers.get('retry-after') };
}

/** Runs `task` over `items`, `concurrency` at a time. */
export async function inParallel<T, R>(items: T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]);
      }
    }),
  );
  return results;
}

/** What MySQL holds of a sale: stock, orders per status, users with more than one live order. */
export async function readLifecycle(mysqlUrl: string, voucherId: string) {
  const db = await createConnection({ uri: mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [[sale]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [[{ stock: number }]];
    const [rows] = (await db.query(
      'SELECT id, user_id AS userId, status, cancel_reason AS cancelReason FROM tb_voucher_order WHERE voucher_id = ?',
      [voucherId],
    )) as unknown as [{ id: string; userId: string; status: number; cancelReason: string | null }[]];
    const [[outbox]] = (await db.query('SELECT COUNT(*) AS n FROM tb_stock_return WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [[{ n: string }]];
    const byStatus: Record<number, number> = {};
    const liveByUser = new Map<string, number>();
    for (const row of rows) {
      byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
      if (row.status !== 4 && row.status !== 6) {
        liveByUser.set(row.userId, (liveByUser.get(row.userId) ?? 0) + 1);
      }
    }
    const live = (byStatus[1] ?? 0) + (byStatus[2] ?? 0) + (byStatus[3] ?? 0);
    return {
      stock: sale.stock,
      orders: rows.map((row) => ({ ...row, id: String(row.id), userId: String(row.userId) })),
      byStatus,
      live,
      cancelled: byStatus[4] ?? 0,
      usersWithTwoLiveOrders: [...liveByUser.values()].filter((n) => n > 1).length,
      outboxRows: Number(outbox.n),
    };
  } finally {
    await db.end();
  }
}

/** Redis' side of a sale's returns: stock, buyers, and the order ids whose unit came back. */
export async function readRedisReturns(redisUrl: string, voucherId: string) {
  const redis = new Redis(redisUrl);
  try {
    const keys = seckillKeys(voucherId);
    const [stock, buyers, returned] = await Promise.all([
      redis.hget(keys.state, 'stock'),
      redis.smembers(keys.buyers),
      redis.smembers(keys.returned),
    ]);
    return { stock: stock === null ? null : Number(stock), buyers: new Set(buyers), returned: new Set(returned) };
  } finally {
    redis.disconnect();
  }
}

/** Polls `read` until `done` holds or `timeoutMs` passes; returns the last value read. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) {
      return value;
    }
    await sleep(200);
  }
}
