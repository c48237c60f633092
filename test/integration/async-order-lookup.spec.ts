import { Redis } from 'ioredis';
import { createConnection, type Connection } from 'mysql2/promise';
import { OrderRepository } from '../../src/order/order.repository';
import { orderStreamKeys } from '../../src/order/async/order-stream.keys';
import { startTestApp, type TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * GET /voucher-order/:id while a consumer commits the order (issue 21, defect 1): the lookup's MySQL
 * read comes before the COMMIT, its Redis read after the settle cleared the pending entry.
 */
describe('GET /voucher-order/:id of an async order being committed', () => {
  let t: TestApp;
  let db: Connection;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ ORDER_MODE: 'async', ORDER_DURABILITY: 'none' });
    db = await createConnection(t.mysqlUrl);
    redis = new Redis(t.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await db?.end();
    await t?.close();
  });

  it('answers CREATED, never 404, when the commit and settle land between its MySQL and Redis reads', async () => {
    const voucherId = await t.createSeckill(5);
    // Hold the stock row: the consumer's batch waits on it, so the order stays uncommitted.
    const holder = await createConnection(t.mysqlUrl);
    await holder.beginTransaction();
    await holder.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ? FOR UPDATE', [voucherId]);
    const accepted = await t.order(voucherId, '41');
    expect(accepted.statusCode).toBe(202);
    const { orderId } = accepted.json<{ orderId: string }>();

    const repository = t.app.get(OrderRepository);
    const findById = repository.findById.bind(repository);
    let raced = false;
    const spy = jest.spyOn(repository, 'findById').mockImplementation(async (id) => {
      const found = await findById(id);
      if (!raced && id === orderId) {
        raced = true;
        expect(found).toBeNull();
        // The read saw no row; now let the batch commit and settle before the lookup goes on.
        await holder.rollback();
        const deadline = Date.now() + 15_000;
        while ((await redis.hexists(orderStreamKeys(voucherId).pending, orderId)) === 1) {
          expect(Date.now()).toBeLessThan(deadline);
          await sleep(20);
        }
      }
      return found;
    });
    try {
      const response = await t.app.inject({
        method: 'GET',
        url: `/voucher-order/${orderId}`,
        headers: { authorization: `Bearer ${await t.token('41')}` },
      });
      expect(raced).toBe(true);
      expect({ status: response.statusCode, body: response.json<unknown>() }).toMatchObject({
        status: 200,
        body: { id: orderId, state: 'CREATED' },
      });
    } finally {
      spy.mockRestore();
      await holder.end();
    }
  });
});
