import type { QueryRunner } from 'typeorm';
import type { OrderBatchRepository } from '../order-batch.repository';
import { SyncBatchWriter } from './sync-batch.writer';
import type { Answer, Waiting } from './sync-batch.types';

const runner = {} as QueryRunner;
const duplicate = Object.assign(new Error("Duplicate entry '7-1' for key 'uk_order_live_user_voucher'"), {
  errno: 1062,
});

/** Members holding a lock that is still theirs, within their deadline. */
const waiting = (userId: string): Waiting => ({
  member: {
    orderId: `order-${userId}`,
    userId,
    voucherId: '1',
    deadline: Number.POSITIVE_INFINITY,
    lockedAt: performance.now(),
    lock: { signal: new AbortController().signal, fencingToken: 1, assertHeld: () => Promise.resolve() },
  },
  resolve: () => undefined,
  reject: () => undefined,
});

/**
 * A repository whose INSERTs collide as told (the first is the one opening the transaction, with the
 * stock UPDATE, which takes the stock when it does not collide) and whose read finds nobody: the
 * order collided with was cancelled between the INSERT and the read (its live_user_id is NULL by then).
 */
function repositoryWith(inserts: (Error | undefined)[], { stockTaken = true } = {}) {
  const calls: string[] = [];
  const repository = {
    openWith: () => {
      calls.push('open');
      const collision = inserts.shift();
      return Promise.resolve(collision ? { collision } : { stockTaken });
    },
    tryInsert: () => {
      calls.push('insert');
      return Promise.resolve(inserts.shift());
    },
    heldBy: () => {
      calls.push('read');
      return Promise.resolve({ ids: new Map(), live: new Map() });
    },
    takeStock: () => {
      calls.push('stock');
      return Promise.resolve();
    },
  } as unknown as OrderBatchRepository;
  return { repository, calls };
}

describe('SyncBatchWriter: a collision the read cannot explain', () => {
  it('inserts once more in the same transaction and commits when the key is free again', async () => {
    const { repository, calls } = repositoryWith([duplicate, undefined]);
    const members = [waiting('7'), waiting('8')];
    const alone: Answer[] = [];
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(runner, '1', members, alone);
    expect(attempt).toEqual({ left: members, commit: true });
    expect(alone).toEqual([]);
    expect(calls).toEqual(['open', 'read', 'insert', 'stock']);
  });

  it('fails the batch with the collision when the second INSERT collides too (no loop)', async () => {
    const { repository, calls } = repositoryWith([duplicate, duplicate]);
    const writer = new SyncBatchWriter(repository);
    await expect(writer.writeOrAnswer(runner, '1', [waiting('7')], [])).rejects.toBe(duplicate);
    expect(calls).toEqual(['open', 'read', 'insert']);
  });
});

describe('SyncBatchWriter: the common batch', () => {
  it('is one round trip before COMMIT: START TRANSACTION, INSERT and UPDATE together', async () => {
    const { repository, calls } = repositoryWith([undefined]);
    const members = [waiting('7'), waiting('8')];
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(runner, '1', members, []);
    expect(attempt).toEqual({ left: members, commit: true });
    expect(calls).toEqual(['open']);
  });

  it('shares out the stock when the UPDATE found too little, and never commits that attempt', async () => {
    const { repository, calls } = repositoryWith([undefined], { stockTaken: false });
    const members = [waiting('7'), waiting('8')];
    const alone: Answer[] = [];
    const oneLeft = { query: () => Promise.resolve([{ stock: 1 }]) } as unknown as QueryRunner;
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(oneLeft, '1', members, alone);
    expect(attempt).toEqual({ left: [members[0]], commit: false });
    expect(alone).toEqual([{ waiting: members[1], outcome: { kind: 'sold-out' } }]);
    expect(calls).toEqual(['open']);
  });
});
