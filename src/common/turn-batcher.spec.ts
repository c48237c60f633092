import { AsyncLocalStorage } from 'node:async_hooks';
import { TurnBatcher } from './turn-batcher';

describe('TurnBatcher', () => {
  it('sends the calls of one event-loop turn together, per key, and answers each in order', async () => {
    const sent: [string, number[]][] = [];
    const batcher = new TurnBatcher<number, number>({
      maxBatch: 64,
      send: (key, items) => {
        sent.push([key, items]);
        return Promise.resolve(items.map((item) => item * 10));
      },
    });
    const answers = await Promise.all([batcher.add('a', 1), batcher.add('b', 2), batcher.add('a', 3)]);
    expect(answers).toEqual([10, 20, 30]);
    expect(sent).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    // A later turn is a new batch.
    expect(await batcher.add('a', 4)).toBe(40);
    expect(sent).toHaveLength(3);
  });

  it('sends a full batch at once, and fails every item of a batch whose send failed', async () => {
    const sizes: number[] = [];
    const batcher = new TurnBatcher<number, number>({
      maxBatch: 2,
      send: (_key, items) => {
        sizes.push(items.length);
        return items.includes(3) ? Promise.reject(new Error('down')) : Promise.resolve(items);
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((item) => batcher.add('k', item)));
    expect(sizes).toEqual([2, 2, 1]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
  });

  it('never sends inside a caller’s async context', async () => {
    const context = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    const batcher = new TurnBatcher<number, number>({
      maxBatch: 1,
      send: (_key, items) => {
        seen.push(context.getStore());
        return Promise.resolve(items);
      },
    });
    await context.run('request', () => Promise.all([batcher.add('k', 1), batcher.add('k', 2)]));
    expect(seen).toEqual([undefined, undefined]);
  });
});
