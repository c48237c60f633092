import type { LocalStack } from '../../scripts/stack/local-stack';
import { ASYNC_ENV } from '../support/async-sale';
import { createSeckillVoucher } from '../support/flash-sale';
import { http } from '../support/http';
import {
  inParallel,
  placeOrder,
  readLifecycle,
  readRedisReturns,
  sleep,
  transition,
  waitFor,
} from '../support/lifecycle';
import { tokenFor } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

const PAYMENT_TIMEOUT_MS = 6000;
/** Orders paid at their deadline ± 300 ms in the race test. */
const RACERS = 1000;
const LIFECYCLE_ENV = {
  ORDER_PAYMENT_TIMEOUT_MS: String(PAYMENT_TIMEOUT_MS),
  ORDER_EXPIRY_SCAN_INTERVAL_MS: '200',
  ORDER_RETURN_RELAY_INTERVAL_MS: '200',
};
const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

describe.each(['sync', 'async'] as const)('Order lifecycle (%s mode, 3 replicas behind nginx)', (mode) => {
  let cluster: LocalStack & { url: string };
  const created = mode === 'sync' ? 201 : 202;
  const env = mode === 'sync' ? LIFECYCLE_ENV : { ...ASYNC_ENV, ...LIFECYCLE_ENV };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3, env });
  });
  afterAll(() => cluster?.stop());

  /** Orders placed and, in async mode, persisted. */
  async function placeAll(voucherId: string, buyers: string[]) {
    const attempts = await inParallel(buyers, 25, (userId) => placeOrder(cluster.url, voucherId, userId));
    const placed = attempts.filter((attempt) => attempt.status === created);
    await waitFor(
      () => readLifecycle(cluster.mysqlUrl, voucherId),
      (sale) => placed.every((attempt) => sale.orders.some((order) => order.id === attempt.orderId)),
    );
    return { attempts, placed };
  }

  it('takes back cancelled and lapsed units exactly once and sells them again', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 200);
    const { placed } = await placeAll(voucherId, users(5000, 200));
    expect(placed).toHaveLength(200);
    const payers = placed.slice(0, 120);
    const cancellers = placed.slice(120, 140);
    const lapsers = placed.slice(140);

    const pays = await inParallel(payers, 20, (a) => transition(cluster.url, a.orderId!, a.userId, 'pay'));
    expect(pays.map((pay) => [pay.status, pay.body.status])).toEqual(payers.map(() => [200, 2]));
    const cancels = await inParallel(cancellers, 20, (a) => transition(cluster.url, a.orderId!, a.userId, 'cancel'));
    expect(cancels.map((c) => [c.status, c.body.status, c.body.cancelReason])).toEqual(
      cancellers.map(() => [200, 4, 'USER']),
    );
    // Paying a paid order again changes nothing; a paid order cannot be cancelled; a cancelled one not paid.
    const again = await transition(cluster.url, payers[0].orderId!, payers[0].userId, 'pay');
    expect([again.status, again.body.payTime]).toEqual([200, pays[0].body.payTime]);
    const notCancellable = await transition(cluster.url, payers[0].orderId!, payers[0].userId, 'cancel');
    expect([notCancellable.status, notCancellable.body.code, notCancellable.body.order?.status]).toEqual([
      409,
      'ORDER_NOT_CANCELLABLE',
      2,
    ]);
    const notPayable = await transition(cluster.url, cancellers[0].orderId!, cancellers[0].userId, 'pay');
    expect([notPayable.status, notPayable.body.code]).toEqual([409, 'ORDER_NOT_PAYABLE']);
    // Someone else's order is missing, not forbidden.
    const foreign = await transition(cluster.url, lapsers[0].orderId!, payers[0].userId, 'cancel');
    expect([foreign.status, foreign.body.code]).toEqual([404, 'ORDER_NOT_FOUND']);
    // Paying someone else's order pays nothing (it lapses below with the other unpaid ones).
    const foreignPay = await transition(cluster.url, lapsers[1].orderId!, payers[0].userId, 'pay');
    expect([foreignPay.status, foreignPay.body.code]).toEqual([404, 'ORDER_NOT_FOUND']);

    // The 60 unpaid orders lapse at their deadline (plus a scan interval) and give their units back.
    const lapsed = await waitFor(
      () => readLifecycle(cluster.mysqlUrl, voucherId),
      (sale) => sale.cancelled === 80,
      PAYMENT_TIMEOUT_MS + 15_000,
    );
    expect(lapsed.cancelled).toBe(80);
    const expired = lapsed.orders.filter((order) => order.cancelReason === 'EXPIRED').map((order) => order.id);
    expect(expired.sort()).toEqual(lapsers.map((a) => a.orderId!).sort());
    const lapsedView = await http<{ status: number; cancelReason: string; payDeadline: string }>(
      'GET',
      `${cluster.url}/voucher-order/${lapsers[0].orderId}`,
      { token: tokenFor(lapsers[0].userId) },
    );
    expect([lapsedView.body.status, lapsedView.body.cancelReason]).toEqual([4, 'EXPIRED']);
    const late = await transition(cluster.url, lapsers[0].orderId!, lapsers[0].userId, 'pay');
    expect([late.status, late.body.code]).toEqual([409, 'ORDER_NOT_PAYABLE']);
    const redisBack = await waitFor(
      () => readRedisReturns(cluster.redis.url, voucherId),
      (redis) => redis.stock === 80,
    );
    expect(redisBack.stock).toBe(80);

    // A repeat buyer learns its order; the 80 units sell again, once each.
    const repeat = await placeOrder(cluster.url, voucherId, payers[0].userId);
    expect([repeat.status, repeat.code]).toEqual([409, 'ALREADY_ORDERED']);
    const repeatBody = await http<{ orderId?: string }>('POST', `${cluster.url}/voucher-order/seckill/${voucherId}`, {
      token: tokenFor(payers[1].userId),
    });
    expect(repeatBody.body.orderId).toBe(payers[1].orderId);
    const losers = [...cancellers, ...lapsers].map((a) => a.userId);
    const startedAt = performance.now();
    const second = await placeAll(voucherId, [...users(9000, 500), ...losers]);
    if (performance.now() - startedAt < PAYMENT_TIMEOUT_MS) {
      expect(second.placed).toHaveLength(80);
    } else {
      // A round slower than the payment timeout (a loaded machine) sees its own first orders lapse
      // and their units sell once more; the accounting below still holds every unit to one order.
      expect(second.placed.length).toBeGreaterThanOrEqual(80);
    }
    expect(second.attempts.filter((a) => a.status !== created).every((a) => a.code === 'SOLD_OUT')).toBe(true);

    // MySQL and Redis agree, every unit is accounted for, and every cancelled order came back once.
    const settled = await waitFor(
      async () => ({
        mysql: await readLifecycle(cluster.mysqlUrl, voucherId),
        redis: await readRedisReturns(cluster.redis.url, voucherId),
      }),
      ({ mysql, redis }) => mysql.outboxRows === 0 && redis.stock === mysql.stock,
    );
    const { mysql, redis } = settled;
    expect(mysql.stock + mysql.live).toBe(200);
    expect(redis.stock).toBe(mysql.stock);
    expect(mysql.usersWithTwoLiveOrders).toBe(0);
    const cancelledIds = mysql.orders.filter((order) => order.status === 4).map((order) => order.id);
    expect([...redis.returned].sort()).toEqual(cancelledIds.sort());
    // The admin view counts by status and the returns.
    const view = await http<{ orders: { byStatus: Record<string, number>; returnedUnits: number } }>(
      'GET',
      `${cluster.url}/admin/sales/${voucherId}`,
      { token: tokenFor('1', 'admin') },
    );
    expect(view.body.orders.byStatus['2']).toBe(120);
    expect(view.body.orders.returnedUnits).toBe(redis.returned.size);
  });

  it("lists the caller's own orders newest first, a page at a time, and a cancelled buyer buys again", async () => {
    const [first, second] = [await createSeckillVoucher(cluster.url, 5), await createSeckillVoucher(cluster.url, 5)];
    const buyer = '61000';
    const a = (await placeAll(first, [buyer])).placed[0];
    expect((await transition(cluster.url, a.orderId!, buyer, 'cancel')).status).toBe(200);
    await waitFor(
      () => readRedisReturns(cluster.redis.url, first),
      (redis) => redis.returned.size === 1,
    );
    const b = (await placeAll(first, [buyer])).placed[0];
    const c = (await placeAll(second, [buyer])).placed[0];
    expect([a, b, c].every((attempt) => attempt?.orderId)).toBe(true);
    await placeAll(second, ['61001']);
    const list = (query: string) =>
      http<{ items: { id: string; status: number }[]; nextCursor: string | null }>(
        'GET',
        `${cluster.url}/voucher-order?${query}`,
        { token: tokenFor(buyer) },
      );
    const page1 = await list('limit=2');
    expect(page1.status).toBe(200);
    const ids = [a, b, c].map((attempt) => BigInt(attempt.orderId!)).sort((x, y) => (x > y ? -1 : 1));
    expect(page1.body.items.map((item) => item.id)).toEqual(ids.slice(0, 2).map(String));
    const page2 = await list(`limit=2&cursor=${page1.body.nextCursor}`);
    expect([page2.body.items.map((item) => item.id), page2.body.nextCursor]).toEqual([[String(ids[2])], null]);
    const cancelledOnly = await list(`voucherId=${first}&status=4`);
    expect(cancelledOnly.body.items.map((item) => item.id)).toEqual([a.orderId]);
    expect((await list('limit=0')).body).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('lets exactly one of concurrent transitions of an order win', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 50);
    const { placed } = await placeAll(voucherId, users(20_000, 21));
    // Ten cancels of one order: one 200, one unit back.
    const [target, ...others] = placed;
    const cancels = await Promise.all(
      Array.from({ length: 10 }, () => transition(cluster.url, target.orderId!, target.userId, 'cancel')),
    );
    expect(cancels.filter((c) => c.status === 200)).toHaveLength(1);
    expect(cancels.filter((c) => c.status === 409).every((c) => c.body.code === 'ORDER_NOT_CANCELLABLE')).toBe(true);
    // Pay and cancel of one order at once: one winner, and the loser is told the order's state.
    const duels = await Promise.all(
      others.map(async (a) => {
        const [pay, cancel] = await Promise.all([
          transition(cluster.url, a.orderId!, a.userId, 'pay'),
          transition(cluster.url, a.orderId!, a.userId, 'cancel'),
        ]);
        return { pay: pay.status, cancel: cancel.status };
      }),
    );
    for (const duel of duels) {
      expect([duel.pay, duel.cancel].sort()).toEqual([200, 409]);
    }
    const cancelledDuels = duels.filter((duel) => duel.cancel === 200).length;
    const settled = await waitFor(
      async () => ({
        mysql: await readLifecycle(cluster.mysqlUrl, voucherId),
        redis: await readRedisReturns(cluster.redis.url, voucherId),
      }),
      ({ mysql, redis }) => mysql.outboxRows === 0 && redis.stock === mysql.stock,
    );
    expect(settled.mysql.cancelled).toBe(1 + cancelledDuels);
    expect(settled.redis.returned.size).toBe(1 + cancelledDuels);
    expect(settled.mysql.stock).toBe(50 - 21 + 1 + cancelledDuels);
    expect(settled.redis.stock).toBe(settled.mysql.stock);
  });

  it('decides a payment racing the deadline in the database: paid xor expired, and the answer says which', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, RACERS);
    const { placed } = await placeAll(voucherId, users(30_000, RACERS));
    const sale = await readLifecycle(cluster.mysqlUrl, voucherId);
    expect(sale.orders).toHaveLength(RACERS);
    const views = await inParallel(placed, 25, (a) =>
      http<{ payDeadline: string }>('GET', `${cluster.url}/voucher-order/${a.orderId}`, { token: tokenFor(a.userId) }),
    );
    // Each pay is sent at its order's deadline ± 300 ms.
    const answers = await Promise.all(
      placed.map(async (a, i) => {
        const at = Date.parse(views[i].body.payDeadline) + ((i % 7) - 3) * 100;
        await sleep(Math.max(0, at - Date.now()));
        return transition(cluster.url, a.orderId!, a.userId, 'pay');
      }),
    );
    const final = await waitFor(
      () => readLifecycle(cluster.mysqlUrl, voucherId),
      (s) => (s.byStatus[1] ?? 0) === 0,
    );
    const statusOf = new Map(final.orders.map((order) => [order.id, order]));
    for (const [i, a] of placed.entries()) {
      const order = statusOf.get(a.orderId!)!;
      if (answers[i].status === 200) {
        expect([order.status, answers[i].body.status]).toEqual([2, 2]);
      } else {
        expect([answers[i].status, answers[i].body.code, order.status, order.cancelReason]).toEqual([
          409,
          'ORDER_NOT_PAYABLE',
          4,
          'EXPIRED',
        ]);
      }
    }
    const paid = answers.filter((answer) => answer.status === 200).length;
    process.stdout.write(
      `LIFECYCLE ${mode}: of ${RACERS} pays at the deadline ±300 ms, ${paid} paid, ${RACERS - paid} expired\n`,
    );
    expect(final.stock + final.live).toBe(RACERS);
  });
});
