import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { CommitCuttingProxy } from '../support/commit-cutting-proxy';
import { startTestApp } from '../support/test-app';
import { sharedStack } from '../support/shared-stack';

/** Longer than the old read-back's two plain reads 200 ms apart, and than a session's end. */
const COMMIT_DELAY_MS = 1500;

/** An app that reaches its database through a proxy cutting COMMIT replies; the test reads MySQL directly. */
async function behindProxy(env: Record<string, string>) {
  const proxy = await CommitCuttingProxy.start({ host: '127.0.0.1', port: sharedStack().mariadbPort });
  const t = await startTestApp(env, {
    appMysqlUrl: (direct) => direct.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${proxy.port}`),
  });
  const redis = new Redis(t.redis.url);
  return {
    proxy,
    t,
    redis,
    /** The voucher's orders and stock as MySQL holds them, and the stock Redis has. */
    async held(voucherId: string) {
      const db = await createConnection({ uri: t.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
      try {
        const [rows] = (await db.query('SELECT id, user_id FROM tb_voucher_order WHERE voucher_id = ?', [
          voucherId,
        ])) as unknown as [{ id: string; user_id: string }[]];
        const [[sale]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
          voucherId,
        ])) as unknown as [[{ stock: number }]];
        return { orders: rows, stock: sale.stock, redisStock: await redis.hget(`seckill:{${voucherId}}`, 'stock') };
      } finally {
        await db.end();
      }
    },
    async close() {
      redis.disconnect();
      await t.close();
      await proxy.stop();
    },
  };
}

/**
 * Sync sale, a COMMIT whose reply is lost (the connection is cut right after it, or as it leaves
 * while the server gets it later): the answer must be what MySQL holds — read back, never guessed.
 * The group commit ends the unanswered session on the server before reading back, so a COMMIT still
 * on its way can no longer land after the read.
 */
describe.each([
  // startTestApp's env stays set for the file's next app: each names the mode it runs.
  ['one round trip (START TRANSACTION … COMMIT together, the default)', { ORDER_SYNC_ONE_ROUND_TRIP: 'true' }],
  ['a COMMIT of its own (ORDER_SYNC_ONE_ROUND_TRIP=false)', { ORDER_SYNC_ONE_ROUND_TRIP: 'false' }],
])('A COMMIT whose reply is lost, %s (real MariaDB behind a proxy that cuts the connection)', (_, env) => {
  let app: Awaited<ReturnType<typeof behindProxy>>;

  beforeAll(async () => {
    app = await behindProxy(env);
  });
  afterAll(() => app?.close());

  it('answers 201 with the committed order, keeps the unit sold and records the buyer', async () => {
    const voucherId = await app.t.createSeckill(5);
    app.proxy.arm();
    const response = await app.t.order(voucherId, '77');
    expect(app.proxy.cutCount).toBe(1);
    expect(response.statusCode).toBe(201);
    const { orderId } = response.json<{ orderId: string }>();
    // The unit was not given back, and the buyer is known to Redis.
    expect(await app.held(voucherId)).toEqual({ orders: [{ id: orderId, user_id: '77' }], stock: 4, redisStock: '4' });
    expect(await app.redis.sismember(`seckill:{${voucherId}}:buyers`, '77')).toBe(1);
  });

  it('ends the session of a COMMIT still on its way before reading back: never lands after the answer', async () => {
    const voucherId = await app.t.createSeckill(5);
    app.proxy.arm({ commitDelayMs: COMMIT_DELAY_MS });
    const response = await app.t.order(voucherId, '78');
    expect(app.proxy.cutCount).toBe(2);
    // Past the moment the proxy hands the COMMIT on: MySQL holds what the answer said.
    await new Promise((resolve) => setTimeout(resolve, COMMIT_DELAY_MS + 500));
    expect({ status: response.statusCode, code: response.json<{ code?: string }>().code }).toEqual({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
    });
    expect(await app.held(voucherId)).toEqual({ orders: [], stock: 5, redisStock: '5' });
  });
});

describe('Negative control: ORDER_UNSAFE_READ_BACK_WITHOUT_SESSION_END', () => {
  let app: Awaited<ReturnType<typeof behindProxy>>;

  beforeAll(async () => {
    app = await behindProxy({ ORDER_SYNC_ONE_ROUND_TRIP: 'true', ORDER_UNSAFE_READ_BACK_WITHOUT_SESSION_END: 'true' });
  });
  afterAll(() => app?.close());

  it('reads back before the delayed COMMIT lands: the buyer is refused an order MySQL then holds', async () => {
    const voucherId = await app.t.createSeckill(5);
    app.proxy.arm({ commitDelayMs: COMMIT_DELAY_MS });
    const response = await app.t.order(voucherId, '79');
    await new Promise((resolve) => setTimeout(resolve, COMMIT_DELAY_MS + 500));
    // What the test above forbids: a 503 (the unit given back in Redis) for an order that is in MySQL.
    expect(response.statusCode).toBe(503);
    expect(await app.held(voucherId)).toMatchObject({ orders: [{ user_id: '79' }], stock: 4, redisStock: '5' });
  });
});
