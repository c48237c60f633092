import { EventEmitter } from 'node:events';
import { HandedOver, LocalGate } from './local-gate';
import { LockKeys, lockKeys } from './lock-keys';
import { LockOwners } from './lock-owner';
import { LockPubSub } from './lock-pubsub';
import { lockScripts } from './lock-scripts';
import { VacatingMap } from './vacating-map';
import type { LockRedisClient, LockRedisSubscriber } from './redis-client';
import { LockLostError, LockNotHeldError, LockUnavailableError } from './lock.errors';
import type { LockAcquiredEvent, LockLostEvent, LockReleasedEvent, LockTimedOutEvent } from './lock.types';
import { inNeutralContext } from './neutral-context';
import { leaseSafetyMargin } from './lock-options';

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
  logger?: { warn(message: string): void };
}

/** Local bookkeeping of one (node, lock, owner) held by this process. */
export interface HeldLock {
  /** Key of the lock in the held registry and the local gate (see `gateKey`). */
  gateId: string;
  node: number;
  name: string;
  owner: string;
  keys: LockKeys;
  count: number;
  fencingToken: number;
  /** Created on first use: most critical sections never look at their signal. */
  controller?: AbortController;
  /** Renewed by the watchdog (no fixed lease). */
  watchdog: boolean;
  leaseMs: number;
  lastRenewedAt: number;
  leaseTimer?: NodeJS.Timeout;
  releasing: boolean;
  lost?: LockLostError;
}

/**
 * Reply of acquire.lua: a positive integer is a first hold and its fencing token; zero or less is
 * "busy" with the negated remaining TTL; `[token, holdCount]` is a re-entry.
 */
export type AcquireReply = number | [number, number];
/** Reply of release.lua: -1 not held, 0 released, n > 0 holds left, `[token]` handed over. */
type ReleaseReply = number | [number];

/** The fencing token of an acquire reply, or 0 if the lock was busy. */
export const grantedToken = (reply: AcquireReply): number =>
  typeof reply === 'number' ? (reply > 0 ? reply : 0) : reply[0];

/** The hold count of a granted acquire reply. */
export const grantedCount = (reply: AcquireReply): number => (typeof reply === 'number' ? 1 : reply[1]);

/** Events of the lock library and their payloads. */
export interface LockEvents {
  lockLost: [LockLostEvent];
  lockReleased: [LockReleasedEvent];
  lockAcquired: [LockAcquiredEvent];
  lockTimedOut: [LockTimedOutEvent];
}

/**
 * The machinery shared by every lock of one LockService: connections, scripts, the in-process
 * gate, pub/sub waiting, the held-lock registry and one watchdog timer for all of them.
 */
export class LockEngine extends EventEmitter<LockEvents> {
  readonly owners: LockOwners;
  readonly gate = new LocalGate();
  readonly watchdogTimeoutMs: number;
  private readonly keyPrefix: string;
  /**
   * Held locks by gate id. Redis lets one owner at a time hold a lock, so one entry per (node, lock)
   * suffices; a lost holder's state may be replaced by the next holder's while its handle still
   * refers to it.
   */
  private readonly held = new VacatingMap<string, HeldLock>();
  private readonly pubsubs = new Map<number, LockPubSub>();
  private readonly ownedSubscribers: LockRedisSubscriber[] = [];
  private watchdogTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(readonly options: LockEngineOptions) {
    super();
    if (options.nodes.length === 0) {
      throw new Error('LockEngine needs at least one Redis node');
    }
    this.owners = new LockOwners(options.instanceId);
    this.keyPrefix = options.keyPrefix ?? 'lock:';
    this.watchdogTimeoutMs = options.watchdogTimeoutMs ?? 30_000;
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

  /** This process's state of `owner`'s hold on a lock, if it holds it. */
  heldLock(gateId: string, owner: string): HeldLock | undefined {
    const state = this.held.get(gateId);
    return state !== undefined && state.owner === owner ? state : undefined;
  }

  /**
   * One acquire attempt in Redis; `onReply` runs in the same promise step. With `waiterTtlMs` > 0
   * a busy answer also lists this process as waiting for that long, which stops other processes
   * from handing the lock around among themselves. `onError` runs before a Redis failure is
   * turned into `LockUnavailableError`.
   */
  attempt<R>(
    node: number,
    keys: LockKeys,
    owner: string,
    leaseMs: number,
    onReply: (reply: AcquireReply) => R | PromiseLike<R>,
    reenter = false,
    waiterTtlMs = 0,
    onError?: () => void,
  ): Promise<R> {
    return lockScripts.acquire.call(
      this.node(node),
      waiterTtlMs > 0 ? keys.waitKeys : keys.acquireKeys,
      waiterTtlMs > 0
        ? [owner, leaseMs, reenter ? '1' : '0', Math.ceil(waiterTtlMs), this.owners.processId]
        : reenter
          ? [owner, leaseMs, '1']
          : [owner, leaseMs],
      onReply,
      (error) => {
        onError?.();
        return new LockUnavailableError(`Redis could not be reached to acquire ${keys.lock}`, keys.lock, {
          cause: error,
        });
      },
    );
  }

  /** Records a successful acquisition (first or re-entry) and returns its state. */
  recordAcquired(
    gateId: string,
    node: number,
    name: string,
    keys: LockKeys,
    owner: string,
    sentAt: number,
    token: number,
    count: number,
    leaseTime?: number,
  ): HeldLock {
    let state = this.held.get(gateId);
    if (state === undefined || state.owner !== owner) {
      if (state !== undefined) {
        // Redis gave this lock to another owner, so the registered holder has lost it (a RedLock
        // part, or a holder whose key expired): tell it now, not at its unlock.
        this.markLost(state, 'expired-or-taken');
      }
      state = {
        gateId,
        node,
        name,
        owner,
        keys,
        count,
        fencingToken: token,
        watchdog: leaseTime === undefined,
        leaseMs: leaseTime ?? this.watchdogTimeoutMs,
        lastRenewedAt: sentAt,
        leaseTimer: undefined,
        controller: undefined,
        releasing: false,
        lost: undefined,
      };
      this.held.set(gateId, state);
    } else {
      state.count = count;
      state.lastRenewedAt = sentAt;
      // A re-entry keeps the lock's mode: a watchdog lock stays renewed, a fixed lease takes the new length.
      if (leaseTime !== undefined && !state.watchdog) {
        state.leaseMs = leaseTime;
      }
    }
    if (state.watchdog) {
      this.ensureWatchdog();
    } else {
      this.armLeaseTimer(state);
    }
    return state;
  }

  /** A fixed lease ends on its own in Redis; tell the holder when it may be gone (counted from the request). */
  private armLeaseTimer(state: HeldLock): void {
    clearTimeout(state.leaseTimer);
    const left = state.leaseMs - (performance.now() - state.lastRenewedAt);
    state.leaseTimer = inNeutralContext(() =>
      setTimeout(() => this.markLost(state, 'lease-elapsed'), Math.max(0, left)),
    );
    state.leaseTimer.unref();
  }

  /**
   * Releases one hold of `owner` (`state`: its bookkeeping, when the caller has it). At hold count
   * zero the local state is dropped and the gate passes on — with the lock itself when the next
   * waiter is local and no other process waits.
   * Rejects with LockLostError if the lock was lost while held, LockNotHeldError if never held.
   */
  release(node: number, name: string, owner: string, state?: HeldLock): Promise<void> {
    if (state !== undefined && this.held.get(state.gateId) !== state) {
      // A stale hold (lost and replaced, or already released): asking Redis could delete a newer
      // hold of the same owner, taken after this one was lost.
      return Promise.reject(state.lost ?? new LockNotHeldError(`Lock ${name} is not held by this hold`, name));
    }
    const keys = state?.keys ?? this.keys(name);
    state ??= this.heldLock(gateKey(node, keys.lock), owner);
    const finalHold = state === undefined || state.count <= 1;
    if (state !== undefined && finalHold) {
      state.releasing = true;
    }
    const next = state !== undefined && finalHold && !state.lost ? this.gate.peekNext(state.gateId) : undefined;
    const sentAt = next ? performance.now() : 0;
    return lockScripts.release.call(
      this.node(node),
      next ? keys.handoverKeys : keys.releaseKeys,
      next
        ? [owner, state!.leaseMs, '1', next.owner, next.leaseMs, this.owners.processId]
        : finalHold && state
          ? [owner]
          : [owner, state?.leaseMs ?? this.watchdogTimeoutMs, '0'],
      (reply: ReleaseReply) => this.released(reply, state, name, owner, next, sentAt),
      (error) => {
        if (state && finalHold) {
          // Redis is unreachable: the lease will free the lock; locally we are done with it.
          this.forget(state);
        }
        return releaseUnavailable(keys, name, error);
      },
    );
  }

  private released(
    reply: ReleaseReply,
    state: HeldLock | undefined,
    name: string,
    owner: string,
    next: { owner: string } | undefined,
    sentAt: number,
  ): void {
    if (reply === -1) {
      if (!state) {
        throw new LockNotHeldError(`Lock ${name} is not held by this owner`, name);
      }
      state.releasing = false;
      const lost = this.markLost(state, 'expired-or-taken');
      this.forget(state);
      throw lost;
    }
    if (typeof reply === 'number' && reply > 0) {
      if (state) {
        state.count = reply;
        state.releasing = false;
      }
      return;
    }
    if (this.listenerCount('lockReleased') > 0) {
      inNeutralContext(() => this.emit('lockReleased', { name, owner }));
    }
    if (state) {
      const handover =
        typeof reply !== 'number' && next ? { to: next.owner, fencingToken: reply[0], sentAt } : undefined;
      this.forget(state, handover);
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
    const leaseMs = this.heldLock(gateKey(node, keys.lock), owner)?.leaseMs ?? this.watchdogTimeoutMs;
    return lockScripts.release.call(
      this.node(node),
      keys.releaseKeys,
      [owner, leaseMs, '0'],
      () => undefined,
      (error) => releaseUnavailable(keys, name, error),
    );
  }

  /** Checks in Redis that `state` is still held (extending its lease); marks it lost otherwise. */
  async verify(state: HeldLock, mode: VerifyMode = 'redis'): Promise<void> {
    if (state.lost) {
      throw state.lost;
    }
    if (
      mode === 'lease' &&
      performance.now() - state.lastRenewedAt < state.leaseMs - leaseSafetyMargin(state.leaseMs)
    ) {
      // Redis cannot have expired the key yet: less than a lease (minus a margin) has passed since a
      // renewal that was sent after this instant. One machine's monotonic clock, no cross-machine comparison.
      return;
    }
    const sentAt = performance.now();
    const renewed = await lockScripts.renew.run<number>(
      this.node(state.node),
      [state.keys.lock],
      [state.owner, state.leaseMs],
      (error) =>
        new LockUnavailableError(`Redis could not be reached to check ${state.name}`, state.name, { cause: error }),
    );
    if (renewed !== 1) {
      throw this.markLost(state, 'expired-or-taken');
    }
    state.lastRenewedAt = sentAt;
    if (!state.watchdog) {
      // renew.lua extended the fixed lease too.
      this.armLeaseTimer(state);
    }
  }

  /** Deletes a lock whoever holds it (administrative); waiters are notified, a local holder is told it lost it. */
  async forceRelease(node: number, name: string): Promise<boolean> {
    const keys = this.keys(name);
    const released = (await lockScripts.forceRelease.run<number>(this.node(node), [keys.lock, keys.channel], [])) === 1;
    const state = this.held.get(gateKey(node, keys.lock));
    if (state) {
      this.markLost(state, 'expired-or-taken');
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
        this.ownedSubscribers.push(subscriber);
      }
      pubsub = new LockPubSub(subscriber);
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
    clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
    for (const state of this.held.values()) {
      clearTimeout(state.leaseTimer);
    }
    this.gate.rejectWaiters(new LockUnavailableError('Lock service is closed', ''));
    for (const pubsub of this.pubsubs.values()) {
      pubsub.wakeAll();
    }
    for (const subscriber of this.ownedSubscribers) {
      subscriber.disconnect();
    }
  }

  private forget(state: HeldLock, handover?: HandedOver & { to: string }): void {
    clearTimeout(state.leaseTimer);
    let orphan = handover?.to;
    if (this.held.get(state.gateId) === state) {
      this.held.delete(state.gateId);
    }
    // Unless a newer hold of this owner is registered, its gate place goes too (also when this
    // state was replaced while being released: its markLost could not leave the gate then).
    if (this.heldLock(state.gateId, state.owner) === undefined) {
      orphan = this.gate.leave(state.gateId, state.owner, handover);
    }
    if (orphan) {
      // Handed to a waiter that gave up meanwhile: release it for them so the lock does not sit idle.
      void this.release(state.node, state.name, orphan).catch(() => undefined);
    }
  }

  /** Marks a held lock lost (once): aborts its signal, logs, emits `lockLost`. Returns the error. */
  markLost(state: HeldLock, reason: LockLostEvent['reason']): LockLostError {
    if (state.lost) {
      return state.lost;
    }
    if (state.releasing) {
      return new LockLostError(`Lock ${state.name} is being released`, state.name);
    }
    clearTimeout(state.leaseTimer);
    state.lost = new LockLostError(`Lock ${state.name} was lost (${reason})`, state.name);
    state.watchdog = false;
    this.options.logger?.warn(`Lock ${state.name} lost by ${state.owner}: ${reason}`);
    // The lost holder no longer holds anything: let the next local waiter compete in Redis.
    this.gate.leave(state.gateId, state.owner);
    state.controller?.abort(state.lost);
    try {
      inNeutralContext(() => this.emit('lockLost', { name: state.name, owner: state.owner, reason }));
    } catch (error) {
      // A listener's bug must not turn a lost lock into a crash.
      this.options.logger?.warn(`lockLost listener failed: ${String(error)}`);
    }
    return state.lost;
  }

  private ensureWatchdog(): void {
    if (this.watchdogTimer || this.closed) {
      return;
    }
    this.watchdogTimer = inNeutralContext(() =>
      setInterval(() => void this.renewAll(), Math.max(1, Math.floor(this.watchdogTimeoutMs / 3))),
    );
    this.watchdogTimer.unref();
  }

  /** One watchdog tick: renews every watchdog lock, one pipeline (one round trip) per node. */
  private async renewAll(): Promise<void> {
    if (this.held.size === 0) {
      // Stopped here rather than at each release, so a busy process does not re-arm it per lock.
      clearInterval(this.watchdogTimer);
      this.watchdogTimer = undefined;
      return;
    }
    const byNode = new Map<number, HeldLock[]>();
    const now = performance.now();
    for (const state of this.held.values()) {
      if (state.watchdog && !state.lost && !state.releasing && now - state.lastRenewedAt >= state.leaseMs) {
        // No successful renewal for a whole lease (e.g. renewals hang): the key may have expired.
        this.markLost(state, 'redis-unreachable');
      } else if (state.watchdog && !state.lost && !state.releasing) {
        const states = byNode.get(state.node);
        if (states) {
          states.push(state);
        } else {
          byNode.set(state.node, [state]);
        }
      }
    }
    await Promise.all(
      [...byNode].map(async ([node, states]) => {
        const startedAt = performance.now();
        let results: (number | Error)[];
        try {
          results = await lockScripts.renew.runPipeline<number>(
            this.node(node),
            states.map((state) => ({ keys: [state.keys.lock], args: [state.owner, state.leaseMs] })),
          );
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          results = states.map(() => failure);
        }
        states.forEach((state, i) => {
          const result = results[i];
          if (state.releasing || state.lost) {
            return;
          }
          if (result === 1) {
            state.lastRenewedAt = startedAt;
          } else if (result === 0) {
            this.markLost(state, 'expired-or-taken');
          } else if (performance.now() - state.lastRenewedAt >= state.leaseMs) {
            // Unreachable for a whole lease: Redis has expired the key by now (or will, before we could prove otherwise).
            this.markLost(state, 'redis-unreachable');
          }
        });
      }),
    );
  }
}

/**
 * How `assertHeld` decides: `redis` asks Redis (one round trip; also sees a lock deleted by an
 * admin or lost with a Redis restart); `lease` trusts a renewal younger than the lease minus a
 * margin and asks Redis only after that (sees expiry from pauses, not deletions).
 */
export type VerifyMode = 'redis' | 'lease';

const releaseUnavailable = (keys: LockKeys, name: string, cause: unknown) =>
  new LockUnavailableError(`Redis could not be reached to release ${keys.lock}`, name, { cause });

/** The AbortSignal of a held lock, created lazily; already aborted if the lock was lost. */
export function signalOf(state: HeldLock): AbortSignal {
  if (!state.controller) {
    state.controller = new AbortController();
    if (state.lost) {
      state.controller.abort(state.lost);
    }
  }
  return state.controller.signal;
}

/** Identifies a lock of one node in this process; node 0's is the lock key itself (no string built per call). */
export const gateKey = (node: number, lockKey: string) => (node === 0 ? lockKey : `${node}|${lockKey}`);
