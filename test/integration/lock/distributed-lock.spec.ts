import { TransactionHost, Transactional } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntitySubscriberInterface } from 'typeorm';
import { AppModule } from '../../../src/app.module';
import { DistributedLock } from '@seckill/lock/nest';
import { InvalidLockKeyError, LockInsideTransactionError, LockLostError, LockService } from '@seckill/lock';
import { DEV_JWT_SECRET } from '../../../scripts/stack/local-stack';
import type { RedisServer } from '../../../scripts/stack/redis';
import { createTestDatabase, startTestRedis } from '../../support/shared-stack';

@Injectable()
class LedgerService {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  @DistributedLock('ledger:{accountId}')
  async post(accountId: string, amount: number, beforeReturn?: () => Promise<void>): Promise<string> {
    await this.insert(accountId, amount);
    await beforeReturn?.();
    return 'posted';
  }

  @DistributedLock('ledger:{entry.accountId}', { transaction: false, waitTime: 50 })
  async noTransaction(entry: { accountId: string }, hold: number): Promise<boolean> {
    await sleep(hold);
    return this.txHost.isTransactionActive();
  }

  @DistributedLock('ledger:{accountId}', { verifyBeforeCommit: 'lease', leaseTime: 300 })
  async postWithShortLease(accountId: string, amount: number, beforeReturn?: () => Promise<void>): Promise<string> {
    await this.insert(accountId, amount);
    await beforeReturn?.();
    return 'posted';
  }

  @Transactional()
  async insert(accountId: string, amount: number): Promise<void> {
    await this.txHost.tx.query('INSERT INTO ledger (account_id, amount) VALUES (?, ?)', [accountId, amount]);
  }

  rows(accountId: string): Promise<unknown[]> {
    return this.txHost.tx.query('SELECT amount FROM ledger WHERE account_id = ?', [accountId]);
  }
}

describe('@DistributedLock with @Transactional (real MariaDB + Redis)', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  let moduleRef: TestingModule;
  let ledger: LedgerService;
  let locks: LockService;
  const events: string[] = [];

  beforeAll(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url);
    Object.assign(process.env, {
      MYSQL_URL: await createTestDatabase('decorator'),
      REDIS_URL: redisServer.url,
      AUTH_JWT_SECRET: DEV_JWT_SECRET,
      LOG_LEVEL: 'silent',
      LOCK_MODE: 'redis',
    });
    moduleRef = await Test.createTestingModule({ imports: [AppModule], providers: [LedgerService] }).compile();
    await moduleRef.init();
    ledger = moduleRef.get(LedgerService);
    locks = moduleRef.get(LockService);
    const dataSource = moduleRef.get(DataSource);
    await dataSource.query(
      'CREATE TABLE ledger (id INT AUTO_INCREMENT PRIMARY KEY, account_id VARCHAR(40) NOT NULL, amount INT NOT NULL)',
    );
    const commitSpy: EntitySubscriberInterface = { afterTransactionCommit: () => void events.push('commit') };
    const rollbackSpy: EntitySubscriberInterface = { afterTransactionRollback: () => void events.push('rollback') };
    dataSource.subscribers.push(commitSpy, rollbackSpy);
    locks.onLockReleased((event) => events.push(`unlock:${event.name}`));
  });
  beforeEach(() => {
    events.length = 0;
  });
  afterAll(async () => {
    await moduleRef?.close();
    redis?.disconnect();
    await redisServer?.stop();
  });

  it('commits the transaction before it releases the lock', async () => {
    await expect(ledger.post('acct-1', 10)).resolves.toBe('posted');
    expect(events).toEqual(['commit', 'unlock:ledger:acct-1']);
    expect(await ledger.rows('acct-1')).toEqual([{ amount: 10 }]);
  });

  it('rolls back when the lock was lost before commit, and reports LockLostError', async () => {
    const loseLock = () => redis.del('lock:{ledger:acct-2}').then(() => undefined);
    await expect(ledger.post('acct-2', 20, loseLock)).rejects.toBeInstanceOf(LockLostError);
    expect(events).toEqual(['rollback']);
    expect(await ledger.rows('acct-2')).toEqual([]);
  });

  it('in lease mode, commits while the lock is held', async () => {
    await expect(ledger.postWithShortLease('acct-7', 70)).resolves.toBe('posted');
    expect(events).toEqual(['commit', 'unlock:ledger:acct-7']);
  });

  it('in lease mode, rolls back when the lease expired before commit (a paused holder)', async () => {
    const pausePastLease = () => sleep(400);
    await expect(ledger.postWithShortLease('acct-8', 80, pausePastLease)).rejects.toBeInstanceOf(LockLostError);
    expect(events).toEqual(['rollback']);
    expect(await ledger.rows('acct-8')).toEqual([]);
  });

  it('rolls back and releases when the method throws', async () => {
    const fail = () => Promise.reject(new Error('business failure'));
    await expect(ledger.post('acct-3', 30, fail)).rejects.toThrow('business failure');
    expect(events).toEqual(['rollback', 'unlock:ledger:acct-3']);
    expect(await redis.exists('lock:{ledger:acct-3}')).toBe(0);
  });

  it('refuses to take the lock inside an already open transaction', async () => {
    const txHost = moduleRef.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
    await expect(txHost.withTransaction(() => ledger.post('acct-4', 40))).rejects.toBeInstanceOf(
      LockInsideTransactionError,
    );
    expect(await ledger.rows('acct-4')).toEqual([]);
  });

  it('serialises concurrent calls for one key and lets other keys run in parallel', async () => {
    const timeline: string[] = [];
    const slow = (id: string) => async () => {
      timeline.push(`${id}:in`);
      await sleep(40);
      timeline.push(`${id}:out`);
    };
    await Promise.all([ledger.post('acct-5', 1, slow('a')), ledger.post('acct-5', 2, slow('b'))]);
    expect(timeline).toEqual(['a:in', 'a:out', 'b:in', 'b:out']);
    expect(await ledger.rows('acct-5')).toHaveLength(2);
  });

  it('can skip the transaction, fills nested paths and applies waitTime', async () => {
    const holder = ledger.noTransaction({ accountId: 'acct-6' }, 200);
    await sleep(20);
    await expect(ledger.noTransaction({ accountId: 'acct-6' }, 0)).rejects.toMatchObject({ name: 'LockTimeoutError' });
    await expect(holder).resolves.toBe(false);
  });

  it('rejects an argument that cannot name a lock', async () => {
    await expect(ledger.post('', 1)).rejects.toBeInstanceOf(InvalidLockKeyError);
  });

  it('keeps method metadata and name', () => {
    expect(LedgerService.prototype.post.name).toBe('post');
  });
});
