import type { AcquireResult } from './calls/acquire.call';
import { forceRelease } from './calls/force-release.call';
import type { Grant, HeldLock } from './held-lock';
import { HeldLocks } from './held-locks';
import { HoldReleaser } from './hold-releaser';
import { HoldVerifier } from './hold-verifier';
import { LocalGate, type GateGrant } from './local-gate';
import { engineSettings, type LockEngineOptions } from './lock-engine-options';
import { LockAttempts } from './lock-attempts';
import { LockEventEmitter } from './lock-event-emitter';
import { LockSubscribers } from './lock-subscribers';
import { gateKey, LockKeys, lockKeys } from './lock-keys';
import { LockOwners } from './lock-owner';
import { LockPubSub } from './lock-pubsub';
import type { AttemptRequest, LockRef, LockSteps, ReleaseRequest, VerifyMode } from './lock-steps';
import { LockWatchdog } from './lock-watchdog';
import type { LockRedisClient } from './redis-client';
import { LockLostError, LockUnavailableError } from './lock.errors';
import type { ReplicaSync } from './lock.types';

/**
 * The machinery shared by every lock of one LockService — connections, the in-process gate
 * (`LocalGate`), pub/sub waiting, the held-lock registry (`HeldLocks`), the watchdog, releases
 * (`HoldReleaser`), checks (`HoldVerifier`), events and shutdown — and what the locks see of it:
 * `LockSteps`.
 */
export class LockEngine extends LockEventEmitter implements LockSteps {
  readonly owners: LockOwners;
  private readonly gate = new LocalGate();
  readonly watchdogTimeoutMs: number;
  private readonly localBurst: number;
  /** Waiters are told by sharded pub/sub (see `shardedPubSub`). */
  private readonly sharded: boolean;
  /** The service's replica-safe grant setting (see `replicaSync`), timeout filled in. */
  readonly replicaSync?: Required<ReplicaSync>;
  /** Every hold of this process: written there only. */
  readonly holds: HeldLocks;
  private readonly watchdog: LockWatchdog;
  private readonly releaser: HoldReleaser;
  private readonly verifier: HoldVerifier;
  private readonly attempts: LockAttempts;
  private readonly keyPrefix: string;
  private readonly subscribers: LockSubscribers;
  private closed = false;

  constructor(readonly options: LockEngineOptions) {
    super(options.logger);
    ({
      keyPrefix: this.keyPrefix,
      watchdogTimeoutMs: this.watchdogTimeoutMs,
      localBurst: this.localBurst,
      sharded: this.sharded,
      replicaSync: this.replicaSync,
    } = engineSettings(options));
    this.owners = new LockOwners(options.instanceId);
    this.holds = new HeldLocks({
      gate: this.gate,
      watchdogTimeoutMs: this.watchdogTimeoutMs,
      logger: options.logger,
      emitLost: (event) => this.emitNeutral('lockLost', event),
      watchdogNeeded: () => this.watchdog.ensure(),
      releaseOrphan: (state, owner) =>
        void this.release({ node: state.node, name: state.name, owner }).catch(() => undefined),
    });
    this.watchdog = new LockWatchdog({
      holds: this.holds,
      node: (index) => this.node(index),
      watchdogTimeoutMs: this.watchdogTimeoutMs,
    });
    this.releaser = new HoldReleaser({
      holds: this.holds,
      gate: this.gate,
      node: (index) => this.node(index),
      keys: (name) => this.keys(name),
      processId: this.owners.processId,
      watchdogTimeoutMs: this.watchdogTimeoutMs,
      localBurst: this.localBurst,
      sharded: this.sharded,
      isClosed: () => this.closed,
      reportReleased: (name, owner) => {
        if (this.listenerCount('lockReleased') > 0) {
          this.emitNeutral('lockReleased', { name, owner });
        }
      },
    });
    this.subscribers = new LockSubscribers({
      subscriber: options.subscriber,
      node: (index) => this.node(index),
      sharded: this.sharded,
      logger: options.logger,
    });
    this.attempts = new LockAttempts({
      holds: this.holds,
      node: (index) => this.node(index),
      processId: this.owners.processId,
    });
    this.verifier = new HoldVerifier({
      holds: this.holds,
      node: (index) => this.node(index),
      release: (request) => this.release(request),
    });
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

  holdOf(gateId: string, owner: string): HeldLock | undefined {
    return this.holds.of(gateId, owner);
  }

  queueLocally(gateId: string, owner: string, waitTime: number, leaseMs: number): Promise<GateGrant> | boolean {
    return this.gate.enter(gateId, owner, waitTime, leaseMs);
  }

  leaveLocalQueue(gateId: string, owner: string): void {
    this.gate.leave(gateId, owner);
  }

  attempt<R>(
    request: AttemptRequest,
    onResult: (result: AcquireResult) => R | PromiseLike<R>,
    onError?: () => void,
  ): Promise<R> {
    return this.attempts.attempt(request, onResult, onError);
  }

  hold(grant: Grant): HeldLock {
    return this.holds.enter(grant);
  }

  extendDirectGrant(state: HeldLock): void {
    this.holds.awaitRenewal(state);
    this.verifier.renew(state).catch(() => undefined);
  }

  confirmReplicated(state: HeldLock, sync: Required<ReplicaSync>): Promise<void> {
    return this.holds.confirmWith(state, this.verifier.confirmReplicated(state, sync));
  }

  verify(state: HeldLock, mode?: VerifyMode): Promise<void> {
    return this.verifier.verify(state, mode);
  }

  markLost(state: HeldLock): LockLostError {
    return this.holds.markLost(state, 'expired-or-taken');
  }

  /** Releases one hold of `owner`; see `HoldReleaser.release`. */
  release(request: ReleaseRequest): Promise<void> {
    return this.releaser.release(request);
  }

  /** Gives back one hold that a failed RedLock re-entry round added on `node` (`HoldReleaser.releaseReentry`). */
  releaseReentry(node: number, name: string, owner: string): Promise<void> {
    return this.releaser.releaseReentry(node, name, owner);
  }

  leaveQueue(lock: LockRef): Promise<number> {
    return this.attempts.leaveQueue(lock);
  }

  reportWait(event: 'lockAcquired' | 'lockTimedOut', lock: LockRef, startedAt: number): void {
    if (this.listenerCount(event) > 0) {
      this.emitNeutral(event, { name: lock.name, owner: lock.owner, waitedMs: performance.now() - startedAt });
    }
  }

  /**
   * Whether `lock`'s owner holds it, asked of Redis (not the local bookkeeping). A hold handed over
   * locally is carried by the Redis field of the owner Redis granted it to.
   */
  async isHeld(lock: LockRef): Promise<boolean> {
    const entry = this.holds.entry(lock.gateId);
    if (entry !== undefined && entry.owner !== lock.owner && entry.heldAs === lock.owner) {
      // This owner's Redis field carries another local owner's hold now.
      return false;
    }
    if (entry?.owner === lock.owner && entry.lost && entry.heldAs !== lock.owner) {
      // A lost hold handed over locally: its field may be its first owner's anew.
      return false;
    }
    const heldAs = entry?.owner === lock.owner ? entry.heldAs : lock.owner;
    return (await this.node(lock.node).hexists(lock.keys.lock, heldAs)) === 1;
  }

  remainingTtl(lock: LockRef): Promise<number> {
    return this.node(lock.node).pttl(lock.keys.lock);
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
    return this.subscribers.of(node);
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
    this.subscribers.close();
  }
}
