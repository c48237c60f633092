import { Registry } from 'prom-client';
import type { AppConfig } from '../../config/app-config';
import type { MetricsService } from '../../metrics/metrics.service';
import type { VoucherService } from '../../voucher/voucher.service';
import type { ActiveSales } from './active-sales';
import type { OrderPersister } from './order-persister';
import { OrderRecovery } from './order-recovery';
import { OrderStreamMetrics } from './order-stream.metrics';
import type { OrderStreamQueries } from './order-stream.queries';
import type { OrderDeliveryStore } from './order-delivery.store';
import type { StreamOrder } from './order-stream.entries';
import type { ReplicaConfirmationStore } from './replica-confirmation.store';
import type { SaleRebuilder } from './sale-rebuilder';

const idle = (voucherId: string): StreamOrder => ({ streamId: '1-0', orderId: '7001', userId: '7', voucherId });

describe(OrderRecovery.name, () => {
  describe('recover', () => {
    it('still claims the other sales’ idle entries when one sale’s stream answers NOGROUP', async () => {
      const persisted: string[] = [];
      const stream = {
        claimIdle: ({ voucherId }: { voucherId: string }) =>
          voucherId === '1'
            ? Promise.reject(new Error("NOGROUP No such key 'seckill:{1}:orders' or consumer group 'order-writers'"))
            : Promise.resolve({ orders: [idle(voucherId)], malformed: [], deleted: [], next: '0-0' }),
      } as unknown as OrderDeliveryStore;
      const queries = {
        backlog: () => Promise.resolve({ pending: 0, lag: 0, length: 1 }),
      } as unknown as OrderStreamQueries;
      const persister = {
        discard: () => Promise.resolve(),
        persist: (orders: StreamOrder[]) => {
          persisted.push(...orders.map((order) => order.voucherId));
          return Promise.resolve();
        },
      } as unknown as OrderPersister;
      const recovery = new OrderRecovery(
        { ORDER_DURABILITY: 'aof', INSTANCE_ID: 'r1', ORDER_CLAIM_IDLE_MS: 100, ORDER_BATCH_SIZE: 10 } as AppConfig,
        { list: () => Promise.resolve(['1', '2', '3']) } as unknown as ActiveSales,
        stream,
        {} as ReplicaConfirmationStore,
        queries,
        persister,
        new OrderStreamMetrics({ registry: new Registry() } as MetricsService),
        { isSalePublished: () => Promise.resolve(true) } as unknown as VoucherService,
        {} as SaleRebuilder,
      );
      await expect(recovery.recover()).resolves.toBe(2);
      expect(persisted).toEqual(['2', '3']);
    });
  });
});
