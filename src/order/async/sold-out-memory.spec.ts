import { EventEmitter } from 'node:events';
import type { AppRedis } from '../../redis/redis-connections';
import { RESTOCK_CHANNEL } from '../../voucher/seckill-keys';
import { SoldOutMemory } from './sold-out-memory';

/** A subscriber connection that delivers what the test publishes. */
function memoryWithSubscriber() {
  const subscriber = Object.assign(new EventEmitter(), { subscribe: () => Promise.resolve(1) });
  const memory = new SoldOutMemory(subscriber as unknown as AppRedis);
  memory.onModuleInit();
  return { memory, restock: (voucherId: string) => subscriber.emit('message', RESTOCK_CHANNEL, voucherId) };
}

describe(SoldOutMemory.name, () => {
  describe('remember', () => {
    it('answers sold out from memory after a SOLD_OUT, until a restock message', () => {
      const { memory, restock } = memoryWithSubscriber();
      memory.remember('1', memory.mark());
      expect(memory.isSoldOut('1')).toBe(true);
      restock('1');
      expect(memory.isSoldOut('1')).toBe(false);
    });

    it('is not re-armed by a SOLD_OUT decided before a restock whose message arrived first', () => {
      const { memory, restock } = memoryWithSubscriber();
      const mark = memory.mark(); // the admission is sent
      restock('1'); // a compensation gives a unit back; its message overtakes the reply
      memory.remember('1', mark); // the SOLD_OUT reply, decided before the restock
      expect(memory.isSoldOut('1')).toBe(false);
    });

    it('never answers sold out past the sale’s end, where ENDED is the answer', () => {
      const { memory } = memoryWithSubscriber();
      memory.remember('1', memory.mark(), Date.now() - 1);
      expect(memory.isSoldOut('1')).toBe(false);
      memory.remember('2', memory.mark(), Date.now() + 60_000);
      expect(memory.isSoldOut('2')).toBe(true);
    });
  });
});
