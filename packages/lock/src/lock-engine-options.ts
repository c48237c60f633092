import { invalidAcquireOptions, replicaSyncOf } from './lock-options';
import type { LockRedisClient, LockRedisSubscriber } from './redis-client';
import type { LockAcquiredEvent, LockLostEvent, LockReleasedEvent, LockTimedOutEvent, ReplicaSync } from './lock.types';

/** Configuration of the lock library. */
export interface LockEngineOptions {
  /** Identifies this process in owner ids (`INSTANCE_ID`). */
  instanceId: string;
  /** Redis nodes; node 0 is the default for single-node locks. Independent nodes serve MultiLock/RedLock. */
  nodes: LockRedisClient[];
  /** Subscriber connection for node 0; other nodes get a duplicate of their connection on first wait. */
  subscriber?: LockRedisSubscriber;
  /** Prefix of every key (default `lock:`). */
  keyPrefix?: string;
  /** Lease of watchdog locks in ms (default 30 000), renewed every third. */
  watchdogTimeoutMs?: number;
  /**
   * While other processes are queued for a lock, how many times in a row a releasing process may
   * still hand it to its own next waiter (no wake-up; usually no round trip either, see
   * `HeldLocks.handOver`) before it must grant it to the first queued process (default 16). It
   * also caps the hand-overs in a row made without telling Redis (a process learns that others
   * wait at its next round trip, so a turn lasts at most about localBurst + 17 holds). 0: strict
   * alternation between processes, every hand-over through Redis; higher: more throughput on a hot
   * key, longer waits for the other processes.
   */
  localBurst?: number;
  /**
   * Tell waiters by sharded pub/sub (Redis 7: SPUBLISH / SSUBSCRIBE) instead of classic pub/sub. On a
   * Redis Cluster a classic message crosses the cluster bus to every node; a sharded one stays on
   * the lock's shard, so release traffic scales with the shards. A Cluster subscriber must then be
   * created with `shardedSubscribers: true` (ioredis ≥ 5.6), which subscribes on each master.
   */
  shardedPubSub?: boolean;
  /**
   * Replica-safe grants for every Redis lock of the service (a call's `replicaSync` overrides it):
   * a new hold counts once `replicas` replicas of its master confirm it (`WAIT`), or it is given
   * back with `LockNotReplicatedError`. Costs one round trip per new hold (re-entries none); the
   * WAIT holds up the connection's later commands until the replicas answer (≤ timeoutMs).
   */
  replicaSync?: ReplicaSync;
  logger?: { warn(message: string): void };
}

/** Events of the lock library and their payloads. */
export interface LockEvents {
  lockLost: [LockLostEvent];
  lockReleased: [LockReleasedEvent];
  lockAcquired: [LockAcquiredEvent];
  lockTimedOut: [LockTimedOutEvent];
}

/** The engine's settings from its options: defaults filled in; a bad option throws. */
export function engineSettings(options: LockEngineOptions) {
  if (options.nodes.length === 0) {
    throw new Error('LockEngine needs at least one Redis node');
  }
  const localBurst = options.localBurst ?? 16;
  const invalidSync = invalidAcquireOptions('(every lock of the service)', { replicaSync: options.replicaSync });
  if (invalidSync) {
    throw invalidSync;
  }
  if (!Number.isInteger(localBurst) || localBurst < 0) {
    throw new RangeError(`localBurst must be a whole number ≥ 0, got ${String(options.localBurst)}`);
  }
  return {
    keyPrefix: options.keyPrefix ?? 'lock:',
    watchdogTimeoutMs: options.watchdogTimeoutMs ?? 30_000,
    localBurst,
    /** Waiters are told by sharded pub/sub (see `shardedPubSub`). */
    sharded: options.shardedPubSub ?? false,
    replicaSync: replicaSyncOf(options.replicaSync),
  };
}
