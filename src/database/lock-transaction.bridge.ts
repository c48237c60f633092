import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { LockTransactionBridge } from '@seckill/lock/nest';

/** Lets `@DistributedLock` open the nestjs-cls TypeORM transaction inside the lock. */
@Injectable()
export class LockTransactionBridgeTypeOrm implements LockTransactionBridge {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  isActive(): boolean {
    return this.txHost.isTransactionActive();
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.txHost.withTransaction(fn);
  }
}
