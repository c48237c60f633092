import { confirmOnReplicas, renew } from './calls/renew.call';
import type { HeldLock } from './held-lock';
import type { HeldLocks } from './held-locks';
import type { ReleaseRequest, VerifyMode } from './lock-steps';
import { LockNotHeldError, LockNotReplicatedError, LockUnavailableError } from './lock.errors';
import type { ReplicaSync } from './lock.types';
import { leaseSafetyMargin } from './lock-options';
import type { LockRedisClient } from './redis-client';

/**
 * Asks Redis whether a hold is still there, one hold at a time: `assertHeld`'s check, the renewal
 * of a direct grant's short first lease, and `replicaSync`'s confirmation of a new hold. (The
 * watchdog renews every hold of the process in batches: `LockWatchdog`.)
 */
export class HoldVerifier {
  constructor(
    private readonly options: {
      holds: HeldLocks;
      node(index: number): LockRedisClient;
      release(request: ReleaseRequest): Promise<void>;
    },
  ) {}

  /** Checks in Redis that `state` is still held (extending its lease); marks it lost otherwise. */
  async verify(state: HeldLock, mode: VerifyMode = 'redis'): Promise<void> {
    if (state.lost) {
      throw state.lost;
    }
    if (!this.options.holds.isCurrent(state) || state.releasing) {
      // Released (perhaps handed over locally, its Redis field carrying another owner's hold now).
      throw new LockNotHeldError(`Lock ${state.name} is not held by this hold any more`, state.name);
    }
    return this.renew(state, mode);
  }

  /**
   * The Redis check of `verify` — also for a hold just granted from the Redis queue, after it was
   * handed over locally meanwhile: the renewal then counts for the new holder.
   */
  async renew(state: HeldLock, mode: VerifyMode = 'redis'): Promise<void> {
    const { holds } = this.options;
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
      this.options.node(state.node),
      { lockKey: state.keys.lock, owner: state.heldAs, leaseMs: state.leaseMs },
      (error) =>
        new LockUnavailableError(`Redis could not be reached to check ${state.name}`, state.name, { cause: error }),
    );
    if (!renewed) {
      // Lost for whoever holds it by now (this hold, or the local owner it was handed to meanwhile).
      throw holds.markLost(holds.carrierOf(state) ?? state, 'expired-or-taken');
    }
    holds.renewed(state, sentAt);
  }

  /**
   * `replicaSync` for a new hold: renews it and WAITs for the replicas in one round trip (see
   * `confirmOnReplicas`). If fewer confirm within the timeout (or Redis cannot say), the hold is
   * given back and this rejects with `LockNotReplicatedError` (or `LockUnavailableError`); a hold
   * found gone rejects as lost.
   */
  async confirmReplicated(state: HeldLock, sync: Required<ReplicaSync>): Promise<void> {
    const { holds } = this.options;
    const sentAt = performance.now();
    let outcome: { held: boolean; acknowledged: number };
    try {
      outcome = await confirmOnReplicas(
        this.options.node(state.node),
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
      const lost = holds.markLost(state, 'expired-or-taken');
      holds.leave(state);
      throw lost;
    }
    holds.renewed(state, sentAt);
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
    await this.options.release({ node: state.node, name: state.name, owner: state.owner, state }).catch(
      () =>
        // Redis unreachable: release left the hold locally; its lease frees it in Redis.
        undefined,
    );
  }
}
