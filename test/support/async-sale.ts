import { Cluster, Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from '../../src/order/async/order-stream.keys';
import { tokenFor } from './flash-sale';
import { http } from './http';

/** Environment of async-mode replicas in tests: quick claims and dead-lettering. */
export const ASYNC_ENV = {
  ORDER_MODE: 'async',
  ORDER_CLAIM_IDLE_MS: '1500',
  ORDER_MAX_ATTEMPTS: '3',
} satisfies NodeJS.ProcessEnv;

export interface AsyncAttempt {
  userId: string;
  status: number;
  code?: string;
  orderId?: string;
  /** When the answer arrived (ms since epoch). */
  at: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function orderAsync(baseUrl: string, voucherId: string, userId: string): Promise<AsyncAttempt> {
  try {
    const response = await http<{ orderId?: string; code?: string; status?: string }>(
      'POST',
      `${baseUrl}/voucher-order/seckill/${voucherId}`,
      { token: tokenFor(userId) },
    );
    return {
      userId,
      status: response.status,
      code: response.body.code,
      orderId: response.body.orderId,
      at: Date.now(),
    };
  } catch {
    // The connection failed (e.g. nginx could not reach a replica): no answer, so nothing was promised.
    return { userId, status: 0, at: Date.now() };
  }
}

/**
 * `requests` orders from `users` users (so most users send more than one), `concurrency` at a time,
 * optionally calling `midway` once when half are sent (a fault to inject).
 */
export async function runAsyncSale(
  baseUrl: string,
  voucherId: string,
  options: { users: number; requests: number; concurrency: number; midway?: () => Promise<void> },
): Promise<AsyncAttempt[]> {
  const attempts: AsyncAttempt[] = [];
  let next = 0;
  let midway: Promise<void> | undefined;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.requests) {
        const i = next++;
        if (options.midway && i === Math.floor(options.requests / 2)) {
          midway = options.midway();
        }
        attempts.push(await orderAsync(baseUrl, voucherId, String(10_000 + (i % options.users))));
      }
    }),
  );
  await midway;
  return attempts;
}

/** Where a test reads Redis: one server's URL, the seed URLs of a Redis Cluster, or Sentinels' URLs. */
export type RedisAt = string | { cluster: string[] } | { sentinels: string[]; name: string };

/** A client of `at` (a Cluster client for a cluster, the current master behind sentinels); the caller disconnects it. */
export function redisAt(at: RedisAt): Redis | Cluster {
  if (typeof at === 'string') {
    return new Redis(at, { maxRetriesPerRequest: 1 });
  }
  if ('sentinels' in at) {
    return new Redis({
      sentinels: at.sentinels.map((url) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) })),
      name: at.name,
      maxRetriesPerRequest: 1,
    });
  }
  return new Cluster(
    at.cluster.map((url) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) })),
    { redisOptions: { maxRetriesPerRequest: 1 } },
  );
}

/** Redis' view of a sale: remaining stock, buyers, and what the consumer group still holds. */
export async function readRedisSale(at: RedisAt, voucherId: string) {
  const redis = redisAt(at);
  try {
    const keys = orderStreamKeys(voucherId);
    const [state, buyers, pending, failed] = await Promise.all([
      redis.hgetall(keys.state),
      redis.smembers(keys.buyers),
      redis.hlen(keys.pending),
      redis.hgetall(keys.failed),
    ]);
    let groupPending = 0;
    let lag = 0;
    try {
      const groups = (await redis.xinfo('GROUPS', keys.orders)) as unknown[][];
      for (const group of groups) {
        const record: Record<string, unknown> = {};
        for (let i = 0; i + 1 < group.length; i += 2) {
          record[String(group[i])] = group[i + 1];
        }
        if (record.name === ORDER_CONSUMER_GROUP) {
          groupPending = Number(record.pending);
          lag = Number(record.lag ?? 0);
        }
      }
    } catch {
      // no stream
    }
    return {
      stock: state.stock === undefined ? null : Number(state.stock),
      buyers: new Set(buyers),
      pendingOrders: pending,
      failed,
      groupPending,
      lag,
    };
  } finally {
    redis.disconnect();
  }
}

/** Waits until the consumers have nothing left: no entry undelivered or unacknowledged. */
export async function waitForDrain(at: RedisAt, voucherId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sale = await readRedisSale(at, voucherId).catch(() => null);
    if (sale && sale.groupPending === 0 && sale.lag === 0 && sale.pendingOrders === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`Sale ${voucherId} did not drain: ${JSON.stringify(sale)}`);
    }
    await sleep(200);
  }
}

/** The buyers MySQL holds for a voucher, with their order ids. */
export async function readOrders(mysqlUrl: string, voucherId: string): Promise<Map<string, string>> {
  const db = await createConnection({ uri: mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [rows] = (await db.query('SELECT id, user_id FROM tb_voucher_order WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [{ id: string; user_id: string }[]];
    return new Map(rows.map((row) => [String(row.id), String(row.user_id)]));
  } finally {
    await db.end();
  }
}

export async function orderState(baseUrl: string, orderId: string, userId: string) {
  const response = await http<{ state?: string; code?: string }>('GET', `${baseUrl}/voucher-order/${orderId}`, {
    token: tokenFor(userId),
  });
  return { status: response.status, state: response.body.state, code: response.body.code };
}

/** Every answer is a 202, a documented 409, or a 503 with a code (or no answer while nginx had no replica). */
export function expectDocumentedAnswers(attempts: AsyncAttempt[], allowed503: string[]) {
  for (const attempt of attempts.filter((candidate) => candidate.status !== 202)) {
    if (attempt.status === 409) {
      expect(attempt.code).toMatch(/^(SOLD_OUT|ALREADY_ORDERED)$/);
    } else {
      expect({ status: attempt.status, code: attempt.code }).toEqual({
        status: 503,
        code: expect.stringMatching(new RegExp(`^(${allowed503.join('|')})$`)),
      });
    }
  }
}
