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
  const opened: { orders: string[]; commit: boolean }[] = [];
  const repository = {
    openWith: (
      _runner: unknown,
      _voucherId: string,
      orders: { orderId: string }[],
      { commitWithinMs }: { commitWithinMs?: number } = {},
    ) => {
      calls.push('open');
      const commit = commitWithinMs !== undefined;
      opened.push({ orders: orders.map((order) => order.orderId), commit });
      const collision = inserts.shift();
      return Promise.resolve(collision ? { collision } : { stockTaken, committed: commit && stockTaken });
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
  return { repository, calls, opened };
}

describe('SyncBatchWriter: a collision the read cannot explain', () => {
  it('inserts once more in the same transaction and commits when the key is free again', async () => {
    const { repository, calls } = repositoryWith([duplicate, undefined]);
    const members = [waiting('7'), waiting('8')];
    const alone: Answer[] = [];
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(runner, '1', members, alone);
    expect(attempt).toEqual({ left: members, outcome: 'ready' });
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
  it('is one round trip with COMMIT: START TRANSACTION, INSERT, UPDATE, the guard and COMMIT together', async () => {
    const { repository, calls, opened } = repositoryWith([undefined]);
    const members = [waiting('7'), waiting('8')];
    const writer = new SyncBatchWriter(repository);
    const attempt = await writer.writeOrAnswer(runner, '1', members, [], { commitInOne: true });
    expect(attempt).toEqual({ left: members, outcome: 'committed' });
    expect(calls).toEqual(['open']);
    expect(opened).toEqual([{ orders: ['order-7', 'order-8'], commit: true }]);
  });

  it('leaves the transaction open and ready for a COMMIT of its own without commitInOne', async () => {
    const { repository, calls, opened } = repositoryWith([undefined]);
    const members = [waiting('7'), waiting('8')];
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(runner, '1', members, []);
    expect(attempt).toEqual({ left: members, outcome: 'ready' });
    expect(calls).toEqual(['open']);
    expect(opened[0].commit).toBe(false);
  });

  it('answers a member past its deadline or without its lock before writing: it never joins the round trip', async () => {
    const { repository, opened } = repositoryWith([undefined]);
    const late = waiting('8');
    late.member.deadline = performance.now() - 1;
    const lost = waiting('9');
    const gone = new Error('lock lost');
    lost.member.lock = { ...lost.member.lock, assertHeld: () => Promise.reject(gone) };
    const members = [waiting('7'), late, lost];
    const alone: Answer[] = [];
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(runner, '1', members, alone, {
      commitInOne: true,
    });
    expect(attempt).toEqual({ left: [members[0]], outcome: 'committed' });
    expect(alone).toEqual([
      { waiting: late, outcome: { kind: 'deadline' } },
      { waiting: lost, error: gone },
    ]);
    expect(opened).toEqual([{ orders: ['order-7'], commit: true }]);
  });

  it('shares out the stock when the UPDATE found too little, and never commits that attempt', async () => {
    const { repository, calls } = repositoryWith([undefined], { stockTaken: false });
    const members = [waiting('7'), waiting('8')];
    const alone: Answer[] = [];
    const oneLeft = { query: () => Promise.resolve([{ stock: 1 }]) } as unknown as QueryRunner;
    const attempt = await new SyncBatchWriter(repository).writeOrAnswer(oneLeft, '1', members, alone, {
      commitInOne: true,
    });
    expect(attempt).toEqual({ left: [members[0]], outcome: 'retry' });
    expect(alone).toEqual([{ waiting: members[1], outcome: { kind: 'sold-out' } }]);
    expect(calls).toEqual(['open']);
  });
});
