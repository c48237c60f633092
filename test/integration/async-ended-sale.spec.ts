import { Redis } from 'ioredis';
import { SaleSnapshotRepository } from '../../src/order/async/sale-snapshot.repository';
import { VoucherRepository } from '../../src/voucher/voucher.repository';
import { orderStreamKeys } from '../../src/order/async/order-stream.keys';
import { startTestApp, type TestApp } from '../support/test-app';

const day = 24 * 3600 * 1000;

/**
 * An async sale whose Redis keys are gone because it is over (issue 21, defect 2): 409 ENDED from
 * memory after one MySQL read, never 503 SALE_UNAVAILABLE, and no rebuild that reads its orders.
 */
describe('ORDER_MODE=async: a sale over whose Redis state expired', () => {
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ ORDER_MODE: 'async', ORDER_DURABILITY: 'none' });
    redis = new Redis(t.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  const expectEnded = async (voucherId: string, userId: string) => {
    const response = await t.order(voucherId, userId);
    expect({ status: response.statusCode, code: response.json<{ code: string }>().code }).toEqual({
      status: 409,
      code: 'ENDED',
    });
  };

  it('answers 409 ENDED for a sale created with an end more than a day past, then from memory', async () => {
    const voucherId = await t.createSeckill(5, { fromMs: -3 * day, toMs: -2 * day });
    // Its keys expired the moment they were written (PEXPIREAT a day after the end).
    expect(await redis.exists(orderStreamKeys(voucherId).state)).toBe(0);
    const mysqlReads = jest.spyOn(t.app.get(VoucherRepository), 'findSeckill');
    const snapshots = jest.spyOn(t.app.get(SaleSnapshotRepository), 'snapshot');
    try {
      await expectEnded(voucherId, '51');
      await expectEnded(voucherId, '52');
      await expectEnded(voucherId, '53');
      expect(mysqlReads.mock.calls.filter(([id]) => id === voucherId)).toHaveLength(1);
      expect(snapshots).not.toHaveBeenCalled();
    } finally {
      mysqlReads.mockRestore();
      snapshots.mockRestore();
    }
  });

  it('answers 409 ENDED for a sale that ended and whose keys then expired', async () => {
    const voucherId = await t.createSeckill(5, { fromMs: -2 * 3600_000, toMs: -3600_000 });
    await expectEnded(voucherId, '54');
    // A day later Redis drops every key of the sale.
    const keys = orderStreamKeys(voucherId);
    await redis.del(keys.state, keys.buyers, keys.orders, keys.pending);
    await expectEnded(voucherId, '55');
    await expectEnded(voucherId, '56');
  });
});
