import { Registry } from 'prom-client';
import type { AppConfig } from '../../config/app-config';
import type { MetricsService } from '../../metrics/metrics.service';
import {
  CommitOutcomeUnknownError,
  isDataError,
  StockMismatchError,
  type BatchOrder,
  type BatchOutcome,
  type OrderBatchRepository,
} from '../order-batch.repository';
import { OrderPersister, PersistenceUnavailableError } from './order-persister';
import { OrderStreamMetrics } from './order-stream.metrics';
import type { StreamOrder } from './order-stream.entries';
import type { OrderSettlementStore } from './order-settlement.store';

/** A repository that fails as told, and a settlement store that records what was settled or compensated. */
function setup(persist: (orders: BatchOrder[]) => Promise<BatchOutcome>, inMysql: Set<string> = new Set()) {
  const settled: string[] = [];
  const compensated: { orderId: string; reason: string; keepBuyer: boolean }[] = [];
  const attempts = new Map<string, number>();
  const repository = {
    persist: (_voucherId: string, orders: BatchOrder[]) => persist(orders),
    existingIds: (_voucherId: string, orders: BatchOrder[]) =>
      Promise.resolve(new Set(orders.map((order) => order.orderId).filter((id) => inMysql.has(id)))),
  } as unknown as OrderBatchRepository;
  const stream = {
    settle: (_voucherId: string, orders: StreamOrder[]) => {
      settled.push(...orders.map((order) => order.orderId));
      return Promise.resolve(orders.length);
    },
    recordAttempt: (_voucherId: string, orderId: string) => {
      attempts.set(orderId, (attempts.get(orderId) ?? 0) + 1);
      return Promise.resolve(attempts.get(orderId)!);
    },
    compensate: (order: StreamOrder, options: { reason: string; keepBuyer: boolean }) => {
      compensated.push({ orderId: order.orderId, ...options });
      return Promise.resolve(true);
    },
  } as unknown as OrderSettlementStore;
  const metrics = new OrderStreamMetrics({ registry: new Registry() } as MetricsService);
  const config = { ORDER_MAX_ATTEMPTS: 2, ORDER_UNSAFE_ACK_BEFORE_COMMIT: false } as AppConfig;
  const persister = new OrderPersister(repository, stream, metrics, config);
  return { persister, settled, compensated };
}

const order = (n: number): StreamOrder => ({
  streamId: `${n}-0`,
  orderId: String(1000 + n),
  userId: String(n),
  voucherId: '9',
});

describe('OrderPersister', () => {
  it('acknowledges after the commit only what MySQL holds', async () => {
    const { persister, settled, compensated } = setup((orders) =>
      Promise.resolve({ persisted: [orders[0].orderId], conflicts: [orders[1].orderId], idCollisions: [] }),
    );
    await persister.persist([order(1), order(2)]);
    expect(settled).toEqual(['1001']);
    // The second user holds another order: the unit goes back, the buyer stays.
    expect(compensated).toEqual([{ orderId: '1002', reason: 'ALREADY_ORDERED', keepBuyer: true }]);
  });

  it('resolves a COMMIT whose reply was lost by reading back: settles what is there, retries the rest', async () => {
    const { persister, settled } = setup(
      () => Promise.reject(new CommitOutcomeUnknownError('connection lost during COMMIT')),
      new Set(['1001']),
    );
    await expect(persister.persist([order(1), order(2)])).rejects.toBeInstanceOf(PersistenceUnavailableError);
    expect(settled).toEqual(['1001']);
  });

  it('settles a whole batch whose lost COMMIT turns out to have happened', async () => {
    const { persister, settled } = setup(
      () => Promise.reject(new CommitOutcomeUnknownError('reply lost')),
      new Set(['1001', '1002']),
    );
    await persister.persist([order(1), order(2)]);
    expect(settled).toEqual(['1001', '1002']);
  });

  it('keeps entries pending on infrastructure errors: never settled, never an attempt against them', async () => {
    const lost = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', errno: -111 });
    const { persister, settled, compensated } = setup(() => Promise.reject(lost));
    await expect(persister.persist([order(1)])).rejects.toBeInstanceOf(PersistenceUnavailableError);
    await expect(persister.persist([order(1)])).rejects.toBeInstanceOf(PersistenceUnavailableError);
    await expect(persister.persist([order(1)])).rejects.toBeInstanceOf(PersistenceUnavailableError);
    expect(settled).toEqual([]);
    expect(compensated).toEqual([]);
  });

  it('tries a failing batch entry by entry and dead-letters only the poison one after ORDER_MAX_ATTEMPTS', async () => {
    const { persister, settled, compensated } = setup((orders) =>
      orders.some((candidate) => candidate.orderId === '1002')
        ? Promise.reject(new StockMismatchError('no row'))
        : Promise.resolve({ persisted: orders.map((candidate) => candidate.orderId), conflicts: [], idCollisions: [] }),
    );
    await persister.persist([order(1), order(2), order(3)]);
    expect(settled).toEqual(['1001', '1003']);
    expect(compensated).toEqual([]);
    await persister.persist([order(2)]);
    expect(compensated).toEqual([{ orderId: '1002', reason: 'STOCK_MISMATCH', keepBuyer: false }]);
  });

  it('never compensates an order that is in MySQL after all', async () => {
    const { persister, settled, compensated } = setup(
      () => Promise.reject(new StockMismatchError('no row')),
      new Set(['1001']),
    );
    await persister.persist([order(1)]);
    await persister.persist([order(1)]);
    expect(compensated).toEqual([]);
    expect(settled).toEqual(['1001']);
  });
});

describe('isDataError', () => {
  it('counts only the entry’s own faults', () => {
    expect(isDataError(new StockMismatchError('x'))).toBe(true);
    expect(isDataError({ code: 'ER_DATA_TOO_LONG', errno: 1406, sqlState: '22001' })).toBe(true);
    expect(isDataError({ driverError: { code: 'ER_BAD_NULL_ERROR', errno: 1048, sqlState: '23000' } })).toBe(true);
    expect(isDataError({ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205, sqlState: 'HY000' })).toBe(false);
    expect(isDataError({ code: 'ER_LOCK_DEADLOCK', errno: 1213, sqlState: '40001' })).toBe(false);
    expect(isDataError({ code: 'PROTOCOL_CONNECTION_LOST' })).toBe(false);
    expect(isDataError(new Error('Pool is closed'))).toBe(false);
  });
});
