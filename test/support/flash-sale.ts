import { createConnection } from 'mysql2/promise';
import { createSeckillVoucher, tokenFor } from '../../scripts/stack/api-client';
import { http } from './http';
import { sampleOf } from './metrics-text';

export { createSeckillVoucher, tokenFor };

export interface OrderAttempt {
  userId: string;
  status: number;
  code?: string;
  orderId?: string;
  instance: string | null;
}

export async function orderOnce(baseUrl: string, voucherId: string, userId: string, token = tokenFor(userId)) {
  const response = await http<{ orderId?: string; code?: string }>(
    'POST',
    `${baseUrl}/voucher-order/seckill/${voucherId}`,
    {
      token,
    },
  );
  return {
    userId,
    status: response.status,
    code: response.body.code,
    orderId: response.body.orderId,
    instance: response.headers.get('x-instance-id'),
  } satisfies OrderAttempt;
}

/**
 * The flash sale of the e2e suite: `users` users each fire `perUser` concurrent orders (at most
 * `concurrentUsers` users at a time), and one greedy user fires `greedy` orders at once midway.
 */
export async function runFlashSale(
  baseUrl: string,
  voucherId: string,
  options: { users: number; perUser: number; greedy: number; concurrentUsers: number },
): Promise<OrderAttempt[]> {
  const attempts: OrderAttempt[] = [];
  const greedyUser = String(options.users + 1_000_000);
  let next = 0;
  const greedyRun = (async () => {
    while (next < options.users / 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const token = tokenFor(greedyUser);
    attempts.push(
      ...(await Promise.all(
        Array.from({ length: options.greedy }, () => orderOnce(baseUrl, voucherId, greedyUser, token)),
      )),
    );
  })();
  await Promise.all(
    Array.from({ length: options.concurrentUsers }, async () => {
      while (next < options.users) {
        const userId = String(1000 + next++);
        const token = tokenFor(userId);
        attempts.push(
          ...(await Promise.all(
            Array.from({ length: options.perUser }, () => orderOnce(baseUrl, voucherId, userId, token)),
          )),
        );
      }
    }),
  );
  await greedyRun;
  return attempts;
}

export interface SaleInvariants {
  orders: number;
  stock: number;
  usersWithTwoOrders: number;
  distinctOrderIds: number;
  orderIds: Set<string>;
}

/** Reads what actually happened from MySQL. */
export async function readInvariants(mysqlUrl: string, voucherId: string): Promise<SaleInvariants> {
  const db = await createConnection({ uri: mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [[orders]] = (await db.query(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM tb_voucher_order WHERE voucher_id = ?',
      [voucherId],
    )) as unknown as [[{ n: string; ids: string }]];
    const [[stock]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [[{ stock: number }]];
    const [doubles] = (await db.query(
      'SELECT user_id FROM tb_voucher_order WHERE voucher_id = ? GROUP BY user_id HAVING COUNT(*) > 1',
      [voucherId],
    )) as unknown as [unknown[]];
    const [ids] = (await db.query('SELECT id FROM tb_voucher_order WHERE voucher_id = ?', [voucherId])) as unknown as [
      { id: string }[],
    ];
    return {
      orders: Number(orders.n),
      stock: stock.stock,
      usersWithTwoOrders: doubles.length,
      distinctOrderIds: Number(orders.ids),
      orderIds: new Set(ids.map((row) => String(row.id))),
    };
  } finally {
    await db.end();
  }
}

/**
 * Sums a Prometheus counter over replicas, asking each replica's internal listener (METRICS_PORT:
 * `AppReplica.metricsUrl`; /metrics is not on the public port nor behind nginx).
 */
export async function sumCounter(metricsUrls: string[], name: string): Promise<number> {
  let total = 0;
  for (const url of metricsUrls) {
    total += sampleOf(await (await fetch(`${url}/metrics`)).text(), name);
  }
  return total;
}
