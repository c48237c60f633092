import { release, type ReleaseResult } from './calls/release.call';
import type { HeldLock } from './held-lock';
import type { HeldLocks } from './held-locks';
import type { LocalGate } from './local-gate';
import { gateKey, type LockKeys } from './lock-keys';
import type { ReleaseRequest } from './lock-steps';
import { LockNotHeldError, LockUnavailableError } from './lock.errors';
import type { LockRedisClient } from './redis-client';

/** What the releaser needs of the engine around it. */
export interface HoldReleaserOptions {
  holds: HeldLocks;
  gate: LocalGate;
  node(index: number): LockRedisClient;
  keys(name: string): LockKeys;
  processId: string;
  watchdogTimeoutMs: number;
  localBurst: number;
  sharded: boolean;
  isClosed(): boolean;
  /** Emits `lockReleased` if anyone listens. */
  reportReleased(name: string, owner: string): void;
}

/**
 * Releases holds: one re-entry, or the final hold — which passes the lock to the next local waiter
 * if there is one, without a round trip where `HeldLocks.canHandOver` allows, else in Redis (which
 * may grant it to another process instead, see `localBurst`).
 */
export class HoldReleaser {
  constructor(private readonly options: HoldReleaserOptions) {}

  /**
   * Releases one hold of `owner`. At hold count zero the hold is left and the gate passes on.
   * Rejects with LockLostError if the lock was lost while held, LockNotHeldError if never held.
   */
  release(request: ReleaseRequest): Promise<void> {
    const { holds, gate } = this.options;
    const { node, name, owner } = request;
    let { state } = request;
    if (state !== undefined && !holds.isCurrent(state)) {
      // A stale hold (lost and replaced, or already released): asking Redis could delete a newer
      // hold of the same owner, taken after this one was lost.
      return Promise.reject(state.lost ?? new LockNotHeldError(`Lock ${name} is not held by this hold`, name));
    }
    const keys = state?.keys ?? this.options.keys(name);
    if (state === undefined) {
      const gateId = gateKey(node, keys.lock);
      if (holds.carriedFor(gateId, owner)) {
        // This owner's Redis field carries another local owner's hold (handed over locally): a
        // release by this owner must not end that hold.
        return Promise.reject(new LockNotHeldError(`Lock ${name} is not held by this owner`, name));
      }
      state = holds.of(gateId, owner);
    }
    if (state?.lost && state.heldAs !== owner) {
      // A lost hold carried by another owner's field: that owner may hold the lock anew under the
      // same field by now, so Redis is not asked (the field, if still there, ends with its lease).
      holds.leave(state);
      return Promise.reject(state.lost);
    }
    const finalHold = state === undefined || state.count <= 1;
    if (state !== undefined && finalHold) {
      holds.startRelease(state);
    }
    const next = state !== undefined && finalHold && !state.lost ? gate.peekNext(state.gateId, state.owner) : undefined;
    if (next && !this.options.isClosed() && holds.canHandOver(state!, next, this.options.localBurst)) {
      // No round trip: the lock stays this process's in Redis and passes to the next local waiter
      // (synchronously after the peek, so it is the same waiter).
      holds.handOver(state!, next.owner);
      this.options.reportReleased(name, owner);
      return RELEASED_LOCALLY;
    }
    const sentAt = next ? performance.now() : 0;
    const held = state;
    // The Redis owner field of the hold (another owner's after local hand-overs).
    const heldAs = held?.heldAs ?? owner;
    const { sharded, watchdogTimeoutMs } = this.options;
    return release(
      this.options.node(node),
      next
        ? {
            keys,
            owner: heldAs,
            sharded,
            mode: 'hand-over',
            leaseMs: held!.leaseMs,
            to: { owner: next.owner, leaseMs: next.leaseMs || watchdogTimeoutMs },
            processId: this.options.processId,
            burstLimit: this.options.localBurst,
            localHandovers: held!.localHandovers,
          }
        : finalHold && held
          ? { keys, owner: heldAs, sharded, mode: 'final' }
          : { keys, owner: heldAs, sharded, mode: 'one', leaseMs: held?.leaseMs ?? watchdogTimeoutMs },
      (result) => this.released(result, { state: held, name, owner, next, sentAt }),
      (error) => {
        if (held && finalHold) {
          // Redis is unreachable: the lease will free the lock; locally we are done with it.
          holds.leave(held);
        }
        return releaseUnavailable(keys, name, error);
      },
    );
  }

  private released(
    result: ReleaseResult,
    context: { state?: HeldLock; name: string; owner: string; next?: { owner: string }; sentAt: number },
  ): void {
    const { holds } = this.options;
    const { state, name, owner, next } = context;
    if (result.kind === 'not-held') {
      if (!state) {
        throw new LockNotHeldError(`Lock ${name} is not held by this owner`, name);
      }
      throw holds.markLostAndLeave(state, 'expired-or-taken');
    }
    if (result.kind === 'left') {
      if (state) {
        holds.reentryReleased(state, result.holdCount);
      }
      return;
    }
    this.options.reportReleased(name, owner);
    if (state) {
      const handover =
        result.kind === 'handed-over' && next
          ? { to: next.owner, fencingToken: result.fencingToken, sentAt: context.sentAt }
          : undefined;
      holds.leave(state, handover);
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
    const keys = this.options.keys(name);
    const state = this.options.holds.of(gateKey(node, keys.lock), owner);
    const leaseMs = state?.leaseMs ?? this.options.watchdogTimeoutMs;
    return release(
      this.options.node(node),
      { keys, owner: state?.heldAs ?? owner, sharded: this.options.sharded, mode: 'one', leaseMs },
      () => undefined,
      (error) => releaseUnavailable(keys, name, error),
    );
  }
}

/** What a release handed on locally resolves with (no round trip, nothing to wait for). */
const RELEASED_LOCALLY: Promise<void> = Promise.resolve();

const releaseUnavailable = (keys: LockKeys, name: string, cause: unknown) =>
  new LockUnavailableError(`Redis could not be reached to release ${keys.lock}`, name, { cause });
