import { createConnection } from 'mysql2/promise';
import type { LockContext } from '@seckill/lock';
import type { SyncBatchMember } from '../../src/order/sync/sync-batch.types';
import { SyncOrderBatcher } from '../../src/order/sync/sync-order.batcher';
import { Redis } from 'ioredis';
import { sampleOf } from '../support/metrics-text';
import { startTestApp, type TestApp } from '../support/test-app';

/** A lock that is held (or, with `lost`, was lost before COMMIT). */
const lock = (lost = false): LockContext => ({
  signal: new AbortController().signal,
  fencingToken: 1,
  assertHeld: () => (lost ? Promise.reject(new Error('lock lost')) : Promise.resolve()),
});

/**
 * The synchronous path's group commit (ORDER_SYNC_BATCH_MAX > 1): members ready together share one
 * transaction, and a member that cannot commit is answered alone while its batch-mates commit.
 */
describe('Sync group commit (in-process app, real MariaDB + Redis)', () => {
  let t: TestApp;
  let batcher: SyncOrderBatcher;
  let id = 7_000_000_000_000_000_000n;
  const member = (voucherId: string, userId: string, extra: Partial<SyncBatchMember> = {}): SyncBatchMember => ({
    orderId: String(id++),
    userId,
    voucherId,
    deadline: Number.POSITIVE_INFINITY,
    lockedAt: performance.now(),
    lock: lock(),
    ...extra,
  });

  beforeAll(async () => {
    t = await startTestApp({ ORDER_SYNC_BATCH_MAX: '64' });
    batcher = t.app.get(SyncOrderBatcher);
  });
  afterAll(() => t?.close());

  async function orders(voucherId: string) {
    const db = await createConnection({ uri: t.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
    try {
      const [rows] = (await db.query('SELECT id, user_id AS userId FROM tb_voucher_order WHERE voucher_id = ?', [
        voucherId,
      ])) as unknown as [{ id: string; userId: string }[]];
      const [[sale]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
        voucherId,
      ])) as unknown as [[{ stock: number }]];
      return { ids: rows.map((row) => String(row.id)).sort(), stock: sale.stock };
    } finally {
      await db.end();
    }
  }

  it('commits the members of one voucher ready together in one batch, each answered created', async () => {
    const voucherId = await t.createSeckill(50);
    const members = Array.from({ length: 20 }, (_, i) => member(voucherId, String(100 + i)));
    const outcomes = await Promise.all(members.map((m) => batcher.submit(m)));
    expect(outcomes.every((outcome) => outcome.kind === 'created')).toBe(true);
    expect(await orders(voucherId)).toEqual({ ids: members.map((m) => m.orderId).sort(), stock: 30 });
  });

  it('answers a duplicate inside a batch ALREADY_ORDERED while its batch-mates commit', async () => {
    const voucherId = await t.createSeckill(50);
    // The same user twice in one batch (what a missing per-user lock lets through).
    const members = [member(voucherId, '200'), member(voucherId, '201'), member(voucherId, '200')];
    const outcomes = await Promise.all(members.map((m) => batcher.submit(m)));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['created', 'created', 'already-ordered']);
    expect(await orders(voucherId)).toEqual({ ids: [members[0].orderId, members[1].orderId].sort(), stock: 48 });
    // A repeat buyer in a later batch is found by the read, with its order.
    const again = await batcher.submit(member(voucherId, '201'));
    expect(again).toEqual({ kind: 'already-ordered', orderId: members[1].orderId, raced: false });
  });

  it('answers a member whose order id is taken id-collision while its batch-mates commit', async () => {
    const voucherId = await t.createSeckill(50);
    const first = member(voucherId, '250');
    expect(await batcher.submit(first)).toMatchObject({ kind: 'created' });
    // Another user's committed order holds one id; another id is taken twice within the batch.
    const twice = String(id++);
    const members = [
      member(voucherId, '251', { orderId: first.orderId }),
      member(voucherId, '252', { orderId: twice }),
      member(voucherId, '253'),
      member(voucherId, '254', { orderId: twice }),
    ];
    const outcomes = await Promise.all(members.map((m) => batcher.submit(m)));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['id-collision', 'created', 'created', 'id-collision']);
    expect(await orders(voucherId)).toEqual({
      ids: [first.orderId, twice, members[2].orderId].sort(),
      stock: 47,
    });
  });

  it('takes out a member whose lock was lost or whose deadline passed; the others commit', async () => {
    const voucherId = await t.createSeckill(50);
    const members = [
      member(voucherId, '300'),
      member(voucherId, '301', { lock: lock(true) }),
      member(voucherId, '302', { deadline: performance.now() - 1 }),
      member(voucherId, '303'),
    ];
    const outcomes = await Promise.allSettled(members.map((m) => batcher.submit(m)));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.kind : 'rejected'))).toEqual([
      'created',
      'rejected',
      'deadline',
      'created',
    ]);
    expect(await orders(voucherId)).toEqual({ ids: [members[0].orderId, members[3].orderId].sort(), stock: 48 });
  });

  it('shares the last units: the first members commit, the rest are sold out', async () => {
    const voucherId = await t.createSeckill(3);
    const members = Array.from({ length: 5 }, (_, i) => member(voucherId, String(400 + i)));
    const outcomes = await Promise.all(members.map((m) => batcher.submit(m)));
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['created', 'created', 'created', 'sold-out', 'sold-out']);
    expect(await orders(voucherId)).toEqual({
      ids: members
        .slice(0, 3)
        .map((m) => m.orderId)
        .sort(),
      stock: 0,
    });
  });

  it('sorts a batch with a repeat buyer and too little stock: the repeat answered first, then the stock shared', async () => {
    const voucherId = await t.createSeckill(2);
    const earlier = member(voucherId, '450');
    expect(await batcher.submit(earlier)).toMatchObject({ kind: 'created' });
    // One unit left; the repeat buyer fails the INSERT, the three new buyers then share the unit.
    const members = [
      member(voucherId, '451'),
      member(voucherId, '450'),
      member(voucherId, '452'),
      member(voucherId, '453'),
    ];
    const outcomes = await Promise.all(members.map((m) => batcher.submit(m)));
    expect(outcomes).toEqual([
      { kind: 'created', buyerConfirmed: false },
      { kind: 'already-ordered', orderId: earlier.orderId, raced: false },
      { kind: 'sold-out' },
      { kind: 'sold-out' },
    ]);
    expect(await orders(voucherId)).toEqual({ ids: [earlier.orderId, members[0].orderId].sort(), stock: 0 });
  });

  it('answers orders through HTTP with batching on: 201 each, a repeat 409 ALREADY_ORDERED with its orderId', async () => {
    const voucherId = await t.createSeckill(10);
    const answers = await Promise.all(['500', '501', '502', '503'].map((userId) => t.order(voucherId, userId)));
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201, 201]);
    const repeat = await t.order(voucherId, '501');
    expect(repeat.statusCode).toBe(409);
    expect(repeat.json()).toMatchObject({
      code: 'ALREADY_ORDERED',
      orderId: answers[1].json<{ orderId: string }>().orderId,
    });
  });

  it("confirms a committed batch's buyers in Redis with the batch, before answering them", async () => {
    const voucherId = await t.createSeckill(10);
    const saleEndMs = Date.now() + 3_600_000;
    const members = ['700', '701', '702'].map((userId) => member(voucherId, userId, { saleEndMs }));
    const outcomes = await Promise.all(members.map((m) => batcher.submit(m)));
    // Confirmed by the batch (each request then skips its own confirm), and there once answered.
    expect(outcomes).toEqual(members.map(() => ({ kind: 'created', buyerConfirmed: true })));
    const redis = new Redis(t.redis.url);
    try {
      expect((await redis.smembers(`seckill:{${voucherId}}:buyers`)).sort()).toEqual(['700', '701', '702']);
    } finally {
      redis.disconnect();
    }
  });

  it('counts requests per reservation call and orders per group-commit transaction', async () => {
    const voucherId = await t.createSeckill(10);
    const scrape = async () => (await t.internal('/metrics')).body;
    const before = await scrape();
    const answers = await Promise.all(['600', '601', '602'].map((userId) => t.order(voucherId, userId)));
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 201]);
    const after = await scrape();
    const grew = (series: string) => sampleOf(after, series) - sampleOf(before, series);
    expect(grew('seckill_sync_reserve_batch_size_sum')).toBe(3);
    expect(grew('seckill_sync_commit_batch_size_sum')).toBeGreaterThanOrEqual(3);
    // No more transactions than orders: a commit that ran with no member would be counted here.
    expect(grew('seckill_sync_commit_batch_size_count')).toBeLessThanOrEqual(3);
  });
});
