/**
 * The demo's second half (`npm run demo -- --pay-ratio R`): after the sale, a share R of the winners
 * pay, half of the rest cancel and the others let their short payment deadline pass; then fresh
 * buyers come for the units that came back. Reads MySQL and Redis to show every returned unit sold
 * again, once.
 */
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { seckillKeys } from '../src/voucher/seckill-keys';
import { tokenFor } from './stack/api-client';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LifecyclePhase {
  lines: string[];
  summary: [string, string][];
  outcomes: [string, number][];
  checks: [string, boolean][];
}

async function post(url: string, userId: string, body?: unknown): Promise<{ status: number; code?: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokenFor(userId)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = (await response.json().catch(() => ({}))) as { code?: string };
  return { status: response.status, code: parsed.code };
}

async function inParallel<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        await task(items[next++]);
      }
    }),
  );
}

export async function runLifecyclePhase(options: {
  baseUrl: string;
  mysqlUrl: string;
  redisUrl: string;
  voucherId: string;
  stock: number;
  payRatio: number;
  /** Users of the resale wave are numbered from here (never a sale buyer). */
  firstNewUser: number;
}): Promise<LifecyclePhase> {
  const { baseUrl, voucherId } = options;
  const db = await createConnection({ uri: options.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
  const redis = new Redis(options.redisUrl);
  try {
    const [winners] = (await db.query('SELECT id, user_id AS userId FROM tb_voucher_order WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [{ id: string; userId: string }[]];
    const payers = winners.slice(0, Math.round(winners.length * options.payRatio));
    const rest = winners.slice(payers.length);
    const cancellers = rest.slice(0, Math.floor(rest.length / 2));
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    await inParallel(payers, 20, async (order) => {
      const answer = await post(`${baseUrl}/voucher-order/${order.id}/pay`, order.userId, { payType: 1 });
      count(`pay ${answer.status} ${answer.code ?? 'PAID'}`);
    });
    await inParallel(cancellers, 20, async (order) => {
      const answer = await post(`${baseUrl}/voucher-order/${order.id}/cancel`, order.userId);
      count(`cancel ${answer.status} ${answer.code ?? 'CANCELLED'}`);
    });
    process.stdout.write(
      `${payers.length} paid, ${cancellers.length} cancelled, ${rest.length - cancellers.length} left unpaid: waiting for their deadline…\n`,
    );
    const waitStarted = performance.now();
    for (;;) {
      const [[unpaid]] = (await db.query(
        'SELECT COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ? AND status = 1',
        [voucherId],
      )) as unknown as [[{ n: string }]];
      if (Number(unpaid.n) === 0 || performance.now() - waitStarted > 120_000) {
        break;
      }
      await sleep(200);
    }
    const returnedMs = performance.now() - waitStarted;
    await sleep(1000); // the relay's last returns
    const comeBack = winners.length - payers.length;
    const newUsers = Array.from({ length: comeBack * 2 }, (_, i) => String(options.firstNewUser + i));
    let resold = 0;
    await inParallel(newUsers, 20, async (userId) => {
      const answer = await post(`${baseUrl}/voucher-order/seckill/${voucherId}`, userId);
      count(`resale ${answer.status} ${answer.code ?? 'ORDERED'}`);
      if (answer.status === 201 || answer.status === 202) {
        resold++;
      }
    });
    // Async: until the resale is persisted.
    for (let i = 0; i < 300; i++) {
      const [[live]] = (await db.query(
        'SELECT COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ? AND status IN (1, 2, 3)',
        [voucherId],
      )) as unknown as [[{ n: string }]];
      if (Number(live.n) >= payers.length + resold) {
        break;
      }
      await sleep(100);
    }
    const [byStatus] = (await db.query(
      'SELECT status, cancel_reason AS reason, COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ? GROUP BY status, cancel_reason',
      [voucherId],
    )) as unknown as [{ status: number; reason: string | null; n: string }[]];
    const [[sale]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [[{ stock: number }]];
    const [[twice]] = (await db.query(
      'SELECT COUNT(*) AS n FROM (SELECT user_id FROM tb_voucher_order WHERE voucher_id = ? AND status IN (1, 2, 3) GROUP BY user_id HAVING COUNT(*) > 1) t',
      [voucherId],
    )) as unknown as [[{ n: string }]];
    const keys = seckillKeys(voucherId);
    const [redisStock, returned] = await Promise.all([redis.hget(keys.state, 'stock'), redis.scard(keys.returned)]);
    const of = (status: number, reason?: string) =>
      byStatus
        .filter((row) => row.status === status && (reason === undefined || row.reason === reason))
        .reduce((sum, row) => sum + Number(row.n), 0);
    const live = of(1) + of(2) + of(3);
    const cancelled = of(4);
    const checks: [string, boolean][] = [
      [`returned units (${cancelled}) = winners who did not pay (${comeBack})`, cancelled === comeBack],
      [`resold (${resold}) = returned units (${comeBack})`, resold === comeBack],
      [
        `MySQL stock (${sale.stock}) + live orders (${live}) = stock (${options.stock})`,
        sale.stock + live === options.stock,
      ],
      [`Redis stock (${redisStock}) = MySQL stock`, Number(redisStock) === sale.stock],
      [`every cancelled order returned once in Redis (${returned})`, returned === cancelled],
      ['no user has two live orders', Number(twice.n) === 0],
    ];
    return {
      lines: [
        'After the sale',
        `  paid ${of(2)}, cancelled by the buyer ${of(4, 'USER')}, expired ${of(4, 'EXPIRED')} ` +
          `(all back ${(returnedMs / 1000).toFixed(1)} s after the cancels), resold ${resold} to ${newUsers.length} new buyers`,
      ],
      summary: [
        ['Paid', String(of(2))],
        ['Cancelled (buyer / expired)', `${of(4, 'USER')} / ${of(4, 'EXPIRED')}`],
        ['Returned units sold again', `${resold} of ${comeBack}`],
      ],
      outcomes: [...outcomes].sort((a, b) => b[1] - a[1]),
      checks,
    };
  } finally {
    redis.disconnect();
    await db.end();
  }
}
