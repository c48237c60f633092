/** Injection token of the command connection (`REDIS_URL`). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
/**
 * Injection token of the lock library's own command connection (`REDIS_URL`): its single-node locks
 * run here, so an acquire, release or renewal never waits behind the sale's pipeline (ioredis keeps
 * one auto-pipeline in flight per connection).
 */
export const REDIS_LOCK_CLIENT = Symbol('REDIS_LOCK_CLIENT');
/** Injection token of the dedicated pub/sub connection (`REDIS_URL`), one per process. */
export const REDIS_SUBSCRIBER = Symbol('REDIS_SUBSCRIBER');
/** Injection token of the independent nodes for MultiLock/RedLock (`REDIS_LOCK_NODES`). */
export const REDIS_LOCK_NODES = Symbol('REDIS_LOCK_NODES');
