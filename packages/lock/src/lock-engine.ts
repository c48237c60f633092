/* eslint-disable max-lines -- the engine still holds a lock's Redis steps beside the shared machinery
   (nodes, events, pub/sub, shutdown); issue 22 part 2 splits it so that ReentrantLock uses it through
   a narrow interface. */
import { EventEmitter } from 'node:events';
import type { HeldLock } from './held-lock';
import { HeldLocks } from './held-locks';
import { LocalGate } from './local-gate';
import { LockKeys, lockKeys } from './lock-keys';
import { LockOwners } from './lock-owner';
import { LockPubSub } from './lock-pubsub';
import { acquire, type AcquireResult } from './calls/acquire.call';
import { forceRelease } from './calls/force-release.call';
import { release, type ReleaseResult } from './calls/release.call';
import { confirmOnReplicas, renew } from './calls/renew.call';
import { LockWatchdog } from './lock-watchdog';
import type { LockRedisClient, LockRedisSubscriber } from './redis-client';
import { LockNotHeldError, LockNotReplicatedError, LockUnavailableError } from './lock.errors';
import type { LockAcquiredEvent, LockLostEvent, LockReleasedEvent, LockTimedOutEvent, ReplicaSync } from './lock.types';
import { inNeutralContext } from './neutral-context';
import { DEFAULT_REPLICA_SYNC_TIMEOUT_MS, invalidAcquireOptions, leaseSafetyMargin } from './lock-options';

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

/**
 * The machinery shared by every lock of one LockService: connections, the in-process gate, pub/sub
 * waiting, the held-lock registry (`holds`), the watchdog, and the Redis steps of a lock — an
 * acquire attempt, a release (with hand-over to a local waiter), a check, a forced release.
 */
export class LockEngine extends EventEmitter<LockEvents> {
  readonly owners: LockOwners;
  readonly gate = new LocalGate();
  readonly watchdogTimeoutMs: number;
  readonly localBurst: number;
  /** Waiters are told by sharded pub/sub (see `shardedPubSub`). */
  readonly sharded: boolean;
  /** The service's replica-safe grant setting (see `replicaSync`), timeout filled in. */
  readonly replicaSync?: Required<ReplicaSync>;
  /** Every hold of this process: entered, left and lost there only. */
  readonly holds: HeldLocks;
  private readonly watchdog: LockWatchdog;
  private readonly keyPrefix: string;
  private readonly pubsubs = new Map<number, LockPubSub>();
  private readonly ownedSubscribers: LockRedisSubscriber[] = [];
  private closed = false;

  constructor(readonly options: LockEngineOptions) {
    super();
    if (options.nodes.length === 0) {
      throw new Error('LockEngine needs at least one Redis node');
    }
    this.owners = new LockOwners(options.instanceId);
    this.keyPrefix = options.keyPrefix ?? 'lock:';
    this.watchdogTimeoutMs = options.watchdogTimeoutMs ?? 30_000;
    this.localBurst = options.localBurst ?? 16;
    this.sharded = options.shardedPubSub ?? false;
    const invalidSync = invalidAcquireOptions('(every lock of the service)', { replicaSync: options.replicaSync });
    if (invalidSync) {
      throw invalidSync;
    }
    this.replicaSync = replicaSyncOf(options.replicaSync);
    if (!Number.isInteger(this.localBurst) || this.localBurst < 0) {
      throw new RangeError(`localBurst must be a whole number ≥ 0, got ${String(options.localBurst)}`);
    }
    this.holds = new HeldLocks({
      gate: this.gate,
      watchdogTimeoutMs: this.watchdogTimeoutMs,
      logger: options.logger,
      emitLost: (event) => this.emit('lockLost', event),
      watchdogNeeded: () => this.watchdog.ensure(),
      releaseOrphan: (state, owner) =>
        void this.release({ node: state.node, name: state.name, owner }).catch(() => undefined),
    });
    this.watchdog = new LockWatchdog({
      holds: this.holds,
      node: (index) => this.node(index),
      watchdogTimeoutMs: this.watchdogTimeoutMs,
    });
  }

  /**
   * Adds `listener` for `event`; returns the function that removes it. A listener that throws (or
   * rejects) is reported and contained: it never changes a lock's state, rejects a caller or leaves
   * a lock name's local queue occupied.
   */
  subscribe<E extends keyof LockEvents>(event: E, listener: (...payload: LockEvents[E]) => void): () => void {
    const report = (error: unknown) => this.options.logger?.warn(`${event} listener failed: ${String(error)}`);
    const contained = (...payload: LockEvents[E]) => {
      try {
        const result = listener(...payload) as unknown;
        if (result instanceof Promise) {
          result.catch(report);
        }
      } catch (error) {
        report(error);
      }
    };
    this.on(event, contained as never);
    return () => this.off(event, contained as never);
  }

  keys(name: string): LockKeys {
    return lockKeys(this.keyPrefix, name);
  }

  node(index: number): LockRedisClient {
    const node = this.options.nodes[index];
    if (!node) {
      throw new Error(`No Redis lock node ${index} (configured: ${this.options.nodes.length})`);
    }
    return node;
  }

  get nodeCount(): number {
    return this.options.nodes.length;
  }

  /**
   * One acquire attempt in Redis; `onResult` runs in the same promise step. With `waiterTtlMs` > 0
   * a busy answer also lists this process as waiting for that long, which stops other processes
   * from handing the lock around among themselves. `onError` runs before a Redis failure is
   * turned into `LockUnavailableError`.
   */
  attempt<R>(
    request: AttemptRequest,
    onResult: (result: AcquireResult) => R | PromiseLike<R>,
    onError?: () => void,
  ): Promise<R> {
    const { keys, waiterTtlMs = 0 } = request;
    if (!request.reenter && this.holds.carriedFor(gateKey(request.node, keys.lock), request.owner)) {
      // This owner's field carries another local owner's hold (a RedLock part of the same name, say):
      // busy for this owner, whatever Redis would answer for the field.
      return Promise.resolve(CARRIED_BUSY).then(onResult);
    }
    return acquire(
      this.node(request.node),
      {
        keys,
        owner: request.owner,
        leaseMs: request.leaseMs,
        reenter: request.reenter,
        fair: request.fair,
        waiter:
          waiterTtlMs > 0
            ? { ttlMs: waiterTtlMs, processId: request.fair ? request.owner : this.owners.processId }
            : undefined,
      },
      onResult,
      (error) => {
        onError?.();
        return new LockUnavailableError(`Redis could not be reached to acquire ${keys.lock}`, keys.lock, {
          cause: error,
        });
      },
    );
  }

  /**
   * Releases one hold of `owner` (`state`: its bookkeeping, when the caller has it). At hold count
   * zero the hold is left and the gate passes on — with the lock itself when the next waiter is
   * local: without a round trip where `HeldLocks.canHandOver` allows, else in Redis (which may
   * grant it to another process instead, see `localBurst`).
   * Rejects with LockLostError if the lock was lost while held, LockNotHeldError if never held.
   */
  release(request: { node: number; name: string; owner: string; state?: HeldLock }): Promise<void> {
    const { node, name, owner } = request;
    let { state } = request;
    if (state !== undefined && !this.holds.isCurrent(state)) {
      // A stale hold (lost and replaced, or already released): asking Redis could delete a newer
      // hold of the same owner, taken after this one was lost.
      return Promise.reject(state.lost ?? new LockNotHeldError(`Lock ${name} is not held by this hold`, name));
    }
    const keys = state?.keys ?? this.keys(name);
    if (state === undefined) {
      const gateId = gateKey(node, keys.lock);
      if (this.holds.carriedFor(gateId, owner)) {
        // This owner's Redis field carries another local owner's hold (handed over locally): a
        // release by this owner must not end that hold.
        return Promise.reject(new LockNotHeldError(`Lock ${name} is not held by this owner`, name));
      }
      state = this.holds.of(gateId, owner);
    }
    if (state?.lost && state.heldAs !== owner) {
      // A lost hold carried by another owner's field: that owner may hold the lock anew under the
      // same field by now, so Redis is not asked (the field, if still there, ends with its lease).
      this.holds.leave(state);
      return Promise.reject(state.lost);
    }
    const finalHold = state === undefined || state.count <= 1;
    if (state !== undefined && finalHold) {
      this.holds.startRelease(state);
    }
    const next =
      state !== undefined && finalHold && !state.lost ? this.gate.peekNext(state.gateId, state.owner) : undefined;
    if (next && !this.closed && this.holds.canHandOver(state!, next, this.localBurst)) {
      // No round trip: the lock stays this process's in Redis and passes to the next local waiter
      // (synchronously after the peek, so it is the same waiter).
      this.holds.handOver(state!, next.owner);
      if (this.listenerCount('lockReleased') > 0) {
        inNeutralContext(() => this.emit('lockReleased', { name, owner }));
      }
      return RELEASED_LOCALLY;
    }
    const sentAt = next ? performance.now() : 0;
    const held = state;
    // The Redis owner field of the hold (another owner's after local hand-overs).
    const heldAs = held?.heldAs ?? owner;
    return release(
      this.node(node),
      next
        ? {
            keys,
            owner: heldAs,
            sharded: this.sharded,
            mode: 'hand-over',
            leaseMs: held!.leaseMs,
            to: { owner: next.owner, leaseMs: next.leaseMs || this.watchdogTimeoutMs },
            processId: this.owners.processId,
            burstLimit: this.localBurst,
            localHandovers: held!.localHandovers,
          }
        : finalHold && held
          ? { keys, owner: heldAs, sharded: this.sharded, mode: 'final' }
          : {
              keys,
              owner: heldAs,
              sharded: this.sharded,
              mode: 'one',
              leaseMs: held?.leaseMs ?? this.watchdogTimeoutMs,
            },
      (result) => this.released(result, { state: held, name, owner, next, sentAt }),
      (error) => {
        if (held && finalHold) {
          // Redis is unreachable: the lease will free the lock; locally we are done with it.
          this.holds.leave(held);
        }
        return releaseUnavailable(keys, name, error);
      },
    );
  }

  private released(
    result: ReleaseResult,
    context: { state?: HeldLock; name: string; owner: string; next?: { owner: string }; sentAt: number },
  ): void {
    const { state, name, owner, next } = context;
    if (result.kind === 'not-held') {
      if (!state) {
        throw new LockNotHeldError(`Lock ${name} is not held by this owner`, name);
      }
      throw this.holds.markLostAndLeave(state, 'expired-or-taken');
    }
    if (result.kind === 'left') {
      if (state) {
        this.holds.reentryReleased(state, result.holdCount);
      }
      return;
    }
    if (this.listenerCount('lockReleased') > 0) {
      inNeutralContext(() => this.emit('lockReleased', { name, owner }));
    }
    if (state) {
      const handover =
        result.kind === 'handed-over' && next
          ? { to: next.owner, fencingToken: result.fencingToken, sentAt: context.sentAt }
          : undefined;
      this.holds.leave(state, handover);
      if (state.lost) {
        throw state.lost;
      }
    }
  }

  /**
   * Gives back one hold that a failed RedLock re-entry round added on `node`; the outer hold and
   * its local state stay as they are.
   */
  releaseReentry(node: number, name: string, owner: string): Promise<void> {
    const keys = this.keys(name);
    const state = this.holds.of(gateKey(node, keys.lock), owner);
    const leaseMs = state?.leaseMs ?? this.watchdogTimeoutMs;
    return release(
      this.node(node),
      { keys, owner: state?.heldAs ?? owner, sharded: this.sharded, mode: 'one', leaseMs },
      () => undefined,
      (error) => releaseUnavailable(keys, name, error),
    );
  }

  /** Checks in Redis that `state` is still held (extending its lease); marks it lost otherwise. */
  async verify(state: HeldLock, mode: VerifyMode = 'redis'): Promise<void> {
    if (state.lost) {
      throw state.lost;
    }
    if (!this.holds.isCurrent(state) || state.releasing) {
      // Released (perhaps handed over locally, its Redis field carrying another owner's hold now).
      throw new LockNotHeldError(`Lock ${state.name} is not held by this hold any more`, state.name);
    }
    return this.renewHold(state, mode);
  }

  /**
   * The Redis check of `verify` for a hold just granted (ReentrantLock.directGrant), also after it was
   * handed over locally meanwhile: the renewal then counts for the new holder.
   */
  async renewHold(state: HeldLock, mode: VerifyMode = 'redis'): Promise<void> {
    if (
      mode === 'lease' &&
      performance.now() - state.lastRenewedAt < state.leaseMs - leaseSafetyMargin(state.leaseMs)
    ) {
      // Redis cannot have expired the key yet: less than a lease (minus a margin) has passed since a
      // renewal that was sent after this instant. One machine's monotonic clock, no cross-machine comparison.
      return;
    }
    const sentAt = performance.now();
    const renewed = await renew(
      this.node(state.node),
      { lockKey: state.keys.lock, owner: state.heldAs, leaseMs: state.leaseMs },
      (error) =>
        new LockUnavailableError(`Redis could not be reached to check ${state.name}`, state.name, { cause: error }),
    );
    if (!renewed) {
      // Lost for whoever holds it by now (this hold, or the local owner it was handed to meanwhile).
      throw this.holds.markLost(this.holds.carrierOf(state) ?? state, 'expired-or-taken');
    }
    this.holds.renewed(state, sentAt);
  }

  /**
   * `replicaSync` for a new hold: renews it and WAITs for the replicas in one round trip (see
   * `confirmOnReplicas`). If fewer
   * confirm within the timeout (or Redis cannot say), the hold is given back and this rejects with
   * `LockNotReplicatedError` (or `LockUnavailableError`); a hold found gone rejects as lost.
   */
  async confirmReplicated(state: HeldLock, sync: Required<ReplicaSync>): Promise<void> {
    const sentAt = performance.now();
    let outcome: { held: boolean; acknowledged: number };
    try {
      outcome = await confirmOnReplicas(
        this.node(state.node),
        { lockKey: state.keys.lock, owner: state.heldAs, leaseMs: state.leaseMs },
        sync,
      );
    } catch (error) {
      await this.giveBack(state);
      throw new LockUnavailableError(`Redis could not confirm ${state.name} on its replicas`, state.name, {
        cause: error,
      });
    }
    if (!outcome.held) {
      const lost = this.holds.markLost(state, 'expired-or-taken');
      this.holds.leave(state);
      throw lost;
    }
    this.holds.renewed(state, sentAt);
    if (outcome.acknowledged < sync.replicas) {
      await this.giveBack(state);
      throw new LockNotReplicatedError(
        `Lock ${state.name} was confirmed by ${outcome.acknowledged} of ${sync.replicas} replicas within ${sync.timeoutMs} ms; given back`,
        state.name,
        outcome.acknowledged,
      );
    }
  }

  /** Releases every hold count of a new hold nobody was handed (a failed replica check). */
  private async giveBack(state: HeldLock): Promise<void> {
    await this.release({ node: state.node, name: state.name, owner: state.owner, state }).catch(
      () =>
        // Redis unreachable: release left the hold locally; its lease frees it in Redis.
        undefined,
    );
  }

  /** Deletes a lock whoever holds it (administrative); waiters are notified, a local holder is told it lost it. */
  async forceRelease(node: number, name: string): Promise<boolean> {
    const keys = this.keys(name);
    const released = await forceRelease(this.node(node), { keys, sharded: this.sharded });
    const state = this.holds.entry(gateKey(node, keys.lock));
    if (state) {
      this.holds.markLost(state, 'expired-or-taken');
    }
    return released;
  }

  pubsub(node: number): LockPubSub {
    let pubsub = this.pubsubs.get(node);
    if (!pubsub) {
      let subscriber = node === 0 ? this.options.subscriber : undefined;
      if (!subscriber) {
        // Its socket's events must not run in the frame of the waiter that happened to need it first.
        subscriber = inNeutralContext(() => this.node(node).duplicate());
        // Its own connection errors (it reconnects by itself): reported, at most once in 10 s, not
        // left to ioredis' unhandled-error output.
        let reportedAt = Number.NEGATIVE_INFINITY;
        subscriber.on('error', (error) => {
          if (performance.now() - reportedAt >= 10_000) {
            reportedAt = performance.now();
            this.options.logger?.warn(`Lock subscriber of node ${node}: ${error.message}`);
          }
        });
        this.ownedSubscribers.push(subscriber);
      }
      pubsub = new LockPubSub(subscriber, { sharded: this.sharded });
      this.pubsubs.set(node, pubsub);
    }
    return pubsub;
  }

  /** Whether `close()` was called: new acquisitions and waits are refused. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The error every acquisition gets once the service is closed. */
  closedError(name: string): LockUnavailableError {
    return new LockUnavailableError(`Lock service is closed; ${name} was not acquired`, name);
  }

  /**
   * Shutdown: stops renewing (held locks then end with their lease, or with their holders' own
   * release) and ends every wait at once with `LockUnavailableError` instead of leaving it to its
   * `waitTime`.
   */
  close(): void {
    this.closed = true;
    this.watchdog.stop();
    this.holds.clearTimers();
    this.gate.rejectWaiters(new LockUnavailableError('Lock service is closed', ''));
    for (const pubsub of this.pubsubs.values()) {
      pubsub.wakeAll();
    }
    for (const subscriber of this.ownedSubscribers) {
      subscriber.disconnect();
    }
  }
}

/** An acquire attempt on one node. */
export interface AttemptRequest {
  node: number;
  keys: LockKeys;
  owner: string;
  leaseMs: number;
  /** The owner holds the lock already (never takes it anew). */
  reenter?: boolean;
  /** If busy, list this process as waiting for this long (0: do not). */
  waiterTtlMs?: number;
  /** A fair lock: the owner itself queues, and a free lock goes to the first in line only. */
  fair?: boolean;
}

/**
 * How `assertHeld` decides: `redis` asks Redis (one round trip; also sees a lock deleted by an
 * admin or lost with a Redis restart); `lease` trusts a renewal younger than the lease minus a
 * margin and asks Redis only after that (sees expiry from pauses, not deletions).
 */
export type VerifyMode = 'redis' | 'lease';

/** An acquire attempt by an owner whose field carries another local owner's hold. */
const CARRIED_BUSY: AcquireResult = Object.freeze({ kind: 'busy', ttlMs: 0 });

/** What a release handed on locally resolves with (no round trip, nothing to wait for). */
const RELEASED_LOCALLY: Promise<void> = Promise.resolve();

const releaseUnavailable = (keys: LockKeys, name: string, cause: unknown) =>
  new LockUnavailableError(`Redis could not be reached to release ${keys.lock}`, name, { cause });

/** Identifies a lock of one node in this process; node 0's is the lock key itself (no string built per call). */
export const gateKey = (node: number, lockKey: string) => (node === 0 ? lockKey : `${node}|${lockKey}`);

/** The replica-safe grant setting with its timeout filled in; undefined when off. */
export function replicaSyncOf(sync: ReplicaSync | false | undefined): Required<ReplicaSync> | undefined {
  return sync ? { replicas: sync.replicas, timeoutMs: sync.timeoutMs ?? DEFAULT_REPLICA_SYNC_TIMEOUT_MS } : undefined;
}
