/**
 * The lock library's core entry (no framework): named reentrant locks on Redis with a watchdog,
 * pub/sub waiting, fencing tokens and a lost-lock signal; MultiLock and RedLock over independent
 * nodes; `withLock`. The NestJS module and `@DistributedLock` are in `./nest`.
 */
export { LockService, type LockServiceOptions, type LockExecutor, type WithLockOptions } from './lock.service';
export type { ReentrantLock } from './reentrant-lock';
export type { MultiLock } from './multi-lock';
export type { RedLock, RedLockOptions } from './red-lock';
export type { VerifyMode } from './lock-steps';
export type {
  AcquireOptions,
  LockAcquiredEvent,
  LockContext,
  LockHandle,
  LockLostEvent,
  LockReleasedEvent,
  LockTimedOutEvent,
  Lockable,
  ReplicaSync,
} from './lock.types';
export {
  InvalidLockKeyError,
  LockError,
  LockInsideTransactionError,
  LockLostError,
  LockNotHeldError,
  LockNotReplicatedError,
  LockTimeoutError,
  LockUnavailableError,
} from './lock.errors';
export { InvalidLockOptionError, MAX_DURATION_MS } from './lock-options';
export { StaleFencingTokenError, assertFencedWrite, fencedUpdate, type FencedUpdate } from './fencing';
export { REDIS_BACKEND, type LockBackend } from './lock-backend';
export { LocalLockService } from './local-lock.service';
export { MySqlTableLockBackend, type MySqlTableLockOptions } from './backends/mysql-table/mysql-table.backend';
export type { MySqlLockClient } from './backends/mysql-table/mysql-client';
export { LuaScript } from './lua-script';
export type {
  LockRedisClient,
  LockRedisPipeline,
  LockRedisSubscriber,
  LockScriptClient,
  ScriptArg,
} from './redis-client';
export { MySqlNamedLockBackend, type MySqlNamedLockOptions } from './backends/mysql-named/mysql-named.backend';
export { MySqlRowLockBackend, type MySqlRowLockOptions } from './backends/mysql-row/mysql-row.backend';
export type { MySqlSessionLockOptions } from './backends/mysql-session/mysql-session.backend';
export type {
  MySqlPinnedConnection,
  MySqlSessionPool,
  TimedQuery,
} from './backends/mysql-session/mysql-session-client';
export { ZooKeeperLockBackend, type ZooKeeperLockOptions } from './backends/zookeeper/zookeeper.backend';
export type {
  ZooKeeperLockClient,
  ZooKeeperStat,
  ZooKeeperEvent,
  ZooKeeperError,
} from './backends/zookeeper/zookeeper-client';
