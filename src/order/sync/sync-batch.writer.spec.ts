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
 * A repository whose INSERTs collide as told and whose read finds nobody: the order collided with was
 * cancelled between the INSERT and the read (its live_user_id is NULL by then).
 */
function repositoryWith(inserts: (Error | undefined)[]) {
  const calls: string[] = [];
  const repository = {
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
    expect(calls).toEqual(['insert', 'read', 'insert', 'stock']);
  });

  it('fails the batch with the collision when the second INSERT collides too (no loop)', async () => {
    const { repository, calls } = repositoryWith([duplicate, duplicate]);
    const writer = new SyncBatchWriter(repository);
    await expect(writer.writeOrAnswer(runner, '1', [waiting('7')], [])).rejects.toBe(duplicate);
    expect(calls).toEqual(['insert', 'read', 'insert']);
  });
});
