import { setTimeout as sleep } from 'node:timers/promises';
import type { HeldLock } from './held-lock';
import { signalOf } from './held-locks';
import type { LockSteps, VerifyMode } from './lock-steps';
import { holdCountOf } from './calls/acquire.call';
import { gateKey, type LockKeys } from './lock-keys';
import { LockLostError, LockUnavailableError } from './lock.errors';
import type { AcquireOptions, LockHandle, Lockable } from './lock.types';
import { invalidAcquireOptions } from './lock-options';
import { lockFromTryLock } from './lock-from-try-lock';
import { unlockOnce } from './lock-handle';

/** RedLock tuning. */
export interface RedLockOptions {
  /** Per-node time budget for one acquire attempt (default 100 ms); a slow node counts as failed. */
  nodeTimeoutMs?: number;
  /** Upper bound of the random pause between rounds (default 50 ms). */
  retryJitterMs?: number;
  /** Allowance for clock rate differences between nodes, as a fraction of the lease (default 0.01). */
  clockDriftFactor?: number;
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([promise, sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error('node timeout')))]);

/** What a RedLock needs of the engine: a lock's steps, and giving back one re-entry on one node. */
export interface RedLockSteps extends LockSteps {
  releaseReentry(node: number, name: string, owner: string): Promise<void>;
}

/**
 * RedLock over N independent Redis nodes: the lock is held when a majority (N/2+1) granted it
 * within the validity time (lease − elapsed − drift). On failure every node is released.
 * Rounds are retried after a random pause (pub/sub would need every node's channel; a RedLock is
 * for rare, coarse locks). Each node's part is watchdog-renewed like a single lock; the handle's
 * signal fires once a majority of the parts is lost. Fencing tokens are the largest token of the
 * granting nodes: increasing in practice, but not guaranteed across node failures (README.md).
 */
export class RedLock implements Lockable {
  private readonly keys: LockKeys;
  private readonly quorum: number;

  constructor(
    private readonly steps: RedLockSteps,
    readonly name: string,
    readonly owner: string,
    private readonly nodes: number[],
    private readonly options: RedLockOptions = {},
  ) {
    this.keys = steps.keys(name);
    this.quorum = Math.floor(nodes.length / 2) + 1;
  }

  async tryLock(options: AcquireOptions = {}): Promise<LockHandle | null> {
    const invalid = invalidAcquireOptions(this.name, options);
    if (invalid) {
      throw invalid;
    }
    const deadline = performance.now() + (options.waitTime ?? 0);
    const leaseMs = options.leaseTime ?? this.steps.watchdogTimeoutMs;
    const drift = leaseMs * (this.options.clockDriftFactor ?? 0.01) + 2;
    for (;;) {
      if (this.steps.isClosed) {
        throw this.steps.closedError(this.name);
      }
      // Parts this owner already holds: on those nodes this round is a re-entry.
      const heldParts = this.nodes.map((node) => this.heldOn(node));
      const reentering = heldParts.some((part) => part !== undefined);
      const startedAt = performance.now();
      const results = await Promise.allSettled(
        this.nodes.map((node, i) =>
          withTimeout(
            this.steps.attempt(
              {
                node,
                keys: this.keys,
                // A part handed over locally is carried by the field Redis granted it to.
                owner: heldParts[i]?.heldAs ?? this.owner,
                leaseMs,
                reenter: heldParts[i] !== undefined,
              },
              (result) => result,
            ),
            this.options.nodeTimeoutMs ?? 100,
          ),
        ),
      );
      const granted: { node: number; token: number; count: number }[] = [];
      let unreachable = 0;
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          unreachable++;
        } else if (result.value.kind !== 'busy') {
          granted.push({
            node: this.nodes[i],
            // A re-entry keeps its hold's token (a part handed over locally has one above the counter).
            token: heldParts[i]?.fencingToken ?? result.value.fencingToken,
            count: holdCountOf(result.value),
          });
        } else if (heldParts[i] !== undefined) {
          // A re-entry found this part gone: the outer hold lost it.
          this.steps.markLost(heldParts[i]);
        }
      });
      const validity = leaseMs - (performance.now() - startedAt) - drift;
      const majorityKept =
        !reentering || heldParts.filter((part) => part !== undefined && !part.lost).length >= this.quorum;
      if (granted.length >= this.quorum && validity > 0 && majorityKept && !this.steps.isClosed) {
        return this.handle(startedAt, granted, options.leaseTime);
      }
      // A re-entry round gives back only the holds it added; a first round clears every node (a
      // node that timed out may still have granted it).
      await (reentering ? this.releaseRound(granted, heldParts) : this.releaseNodes(this.nodes));
      if (!majorityKept) {
        throw new LockLostError(`RedLock ${this.name} lost its majority`, this.name);
      }
      if (this.steps.isClosed) {
        throw this.steps.closedError(this.name);
      }
      if (unreachable > this.nodes.length - this.quorum) {
        throw new LockUnavailableError(
          `RedLock ${this.name}: ${unreachable} of ${this.nodes.length} nodes unreachable, no majority possible`,
          this.name,
        );
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        return null;
      }
      await sleep(Math.min(remaining, Math.random() * (this.options.retryJitterMs ?? 50)));
    }
  }

  lock(options: AcquireOptions = {}): Promise<LockHandle> {
    return lockFromTryLock(this, 'RedLock', options);
  }

  private handle(
    sentAt: number,
    granted: { node: number; token: number; count: number }[],
    leaseTime?: number,
  ): LockHandle {
    const parts = granted.map((part) =>
      this.steps.hold({
        gateId: gateKey(part.node, this.keys.lock),
        node: part.node,
        name: this.name,
        keys: this.keys,
        owner: this.owner,
        sentAt,
        fencingToken: part.token,
        holdCount: part.count,
        leaseTime,
      }),
    );
    const controller = new AbortController();
    // The RedLock is lost when so many parts are lost that no majority remains.
    let lost = 0;
    for (const part of parts) {
      signalOf(part).addEventListener('abort', () => {
        lost++;
        if (parts.length - lost < this.quorum && !controller.signal.aborted) {
          controller.abort(new LockLostError(`RedLock ${this.name} lost its majority`, this.name));
        }
      });
    }
    return {
      name: this.name,
      fencingToken: Math.max(...granted.map((part) => part.token)),
      holdCount: Math.min(...granted.map((part) => part.count)),
      signal: controller.signal,
      assertHeld: async (mode?: VerifyMode) => {
        const results = await Promise.allSettled(parts.map((part) => this.steps.verify(part, mode)));
        const held = results.filter((result) => result.status === 'fulfilled').length;
        if (held < this.quorum) {
          throw new LockLostError(`RedLock ${this.name} is held by only ${held} node(s)`, this.name);
        }
      },
      unlock: unlockOnce(this.name, async () => {
        const results = await Promise.allSettled(
          granted.map((part, i) =>
            this.steps.release({ node: part.node, name: this.name, owner: this.owner, state: parts[i] }),
          ),
        );
        const ok = results.filter((result) => result.status === 'fulfilled').length;
        if (ok < this.quorum || controller.signal.aborted) {
          throw new LockLostError(`RedLock ${this.name} was held by only ${ok} node(s) at release`, this.name);
        }
      }),
    };
  }

  private heldOn(node: number) {
    return this.steps.holdOf(gateKey(node, this.keys.lock), this.owner);
  }

  /** Gives back what a failed re-entry round added: one hold where a part was held, the new hold elsewhere. */
  private async releaseRound(granted: { node: number }[], heldParts: (HeldLock | undefined)[]): Promise<void> {
    const timeout = this.options.nodeTimeoutMs ?? 100;
    await Promise.allSettled(
      granted.map(({ node }) =>
        withTimeout(
          heldParts[this.nodes.indexOf(node)] !== undefined
            ? this.steps.releaseReentry(node, this.name, this.owner)
            : this.steps.release({ node, name: this.name, owner: this.owner }),
          timeout,
        ),
      ),
    );
  }

  /** Best-effort release on every node (a node that never granted it answers "not held"). */
  private async releaseNodes(nodes: number[]): Promise<void> {
    await Promise.allSettled(
      nodes.map((node) =>
        withTimeout(
          this.steps.release({ node, name: this.name, owner: this.owner }),
          this.options.nodeTimeoutMs ?? 100,
        ),
      ),
    );
  }
}
