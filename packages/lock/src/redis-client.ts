/**
 * The Redis commands the lock library uses, typed structurally (as redis-semaphore's `RedisClient`):
 * an ioredis 5 `Redis` satisfies it as it is, and the library imports no client of its own — ioredis
 * is a peer of the package, not a dependency.
 */

/** An argument of a script call. */
export type ScriptArg = string | number | Buffer;

/** A pipeline of script calls, sent as one round trip (the watchdog's renewals). */
export interface LockRedisPipeline {
  evalsha(sha: string, numKeys: number, ...args: ScriptArg[]): unknown;
  /** Needed with `replicaSync` only (a script after NOSCRIPT, and WAIT behind it on the same connection). */
  eval?(script: string, numKeys: number, ...args: ScriptArg[]): unknown;
  wait?(numReplicas: number, timeout: number): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** A subscriber connection: release notifications arrive here. */
export interface LockRedisSubscriber {
  /** ioredis' connection state ('wait', 'connecting', 'connect', 'ready', 'close', 'reconnecting', 'end'). */
  readonly status: string;
  on(event: 'ready' | 'close' | 'subscribersReady', listener: () => void): unknown;
  on(event: 'message' | 'smessage', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'ready' | 'close', listener: () => void): unknown;
  off(event: 'ready' | 'close', listener: () => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Sharded pub/sub (Redis 7), needed with `shardedPubSub` only. */
  ssubscribe?(channel: string): Promise<unknown>;
  sunsubscribe?(channel: string): Promise<unknown>;
  disconnect(): void;
}

/** What running one script needs (`LuaScript.run`/`call`): EVALSHA, and EVAL after NOSCRIPT. */
export type LockScriptClient = Pick<LockRedisClient, 'evalsha' | 'eval'>;

/** A command connection to one Redis node, or an ioredis `Cluster` (its commands are routed by key). */
export interface LockRedisClient {
  /** ioredis' `Cluster` says true: a pipeline may then not span hash slots, so batches are sent as separate calls. */
  readonly isCluster?: boolean;
  evalsha(sha: string, numKeys: number, ...args: ScriptArg[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: ScriptArg[]): Promise<unknown>;
  script(subcommand: 'LOAD', script: string): Promise<unknown>;
  pipeline(): LockRedisPipeline;
  /** `ReentrantLock.isHeld` (asks Redis, not the local bookkeeping). */
  hexists(key: string, field: string): Promise<number>;
  /** `ReentrantLock.remainingTtl`. */
  pttl(key: string): Promise<number>;
  /** A new connection with the same options: the subscriber of a node that was given none. */
  duplicate(): LockRedisSubscriber;
}
