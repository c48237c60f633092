/**
 * The lock library's NestJS entry: `LockModule.forRootAsync`, `@DistributedLock` and the injection
 * tokens. Needs `@nestjs/common` (a peer); the core entry (`.`) does not.
 */
export { LockModule, type LockModuleOptions } from './lock.module';
export { DistributedLock, type DistributedLockOptions } from './distributed-lock.decorator';
export { LOCK_EXECUTOR, LOCK_TRANSACTION_BRIDGE, type LockTransactionBridge } from './lock.tokens';
