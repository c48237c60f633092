/**
 * The lock library's low-level entry: `LuaScript`, the EVALSHA-with-EVAL-fallback runner the lock's
 * own scripts use, for applications that run scripts of their own on the same connections (the
 * app's `RedisScript` extends it); the structural Redis client types the library is written against
 * (an ioredis 5 `Redis` satisfies them as it is); and `MAX_DURATION_MS`, the longest lease or wait
 * it takes. Not needed to take locks.
 */
export { LuaScript } from './lua-script';
export type {
  LockRedisClient,
  LockRedisPipeline,
  LockRedisSubscriber,
  LockScriptClient,
  ScriptArg,
} from './redis-client';
export { MAX_DURATION_MS } from './lock-options';
