import { LockEngine, LockEngineOptions } from './lock-engine';
import { MultiLock } from './multi-lock';
import { ReentrantLock } from './reentrant-lock';
import { RedLock, RedLockOptions } from './red-lock';
import type {
  AcquireOptions,
  LockAcquiredEvent,
  LockContext,
  LockLostEvent,
  LockReleasedEvent,
  LockTimedOutEvent,
  Lockable,
} from './lock.types';

/** Options of `withLock`: acquisition options plus which kind of lock. */
export interface WithLockOptions extends AcquireOptions {
  /** Wait forever when omitted; otherwise `LockTimeoutError` after this many ms. */
  waitTime?: number;
}

/** Anything that can run a function under a named lock (the Redis LockService or the local mutex). */
export interface LockExecutor {
  withLock<T>(name: string, options: WithLockOptions, fn: (context: LockContext) => Promise<T>): Promise<T>;
}

/**
 * Entry point of the lock library: named reentrant locks on Redis, MultiLock, RedLock and
 * `withLock`. One instance per process; it owns the watchdog timer and the pub/sub waiters.
 */
export class LockService implements LockExecutor {
  private readonly engine: LockEngine;

  private readonly independentNodes: number[];

  /**
   * @param options.nodes Redis connections; node 0 serves single-node locks.
   * @param independentNodes indexes of `nodes` that MultiLock-on-all-nodes and RedLock span (default: all).
   */
  constructor(options: LockEngineOptions, independentNodes?: number[]) {
    this.engine = new LockEngine(options);
    this.independentNodes = independentNodes ?? Array.from({ length: options.nodes.length }, (_, i) => i);
  }

  /** A reentrant lock owned by the current async call chain (or a fresh owner outside one). */
  getLock(name: string, options: { node?: number } = {}): ReentrantLock {
    return new ReentrantLock(this.engine, name, this.currentOwner(), options.node ?? 0);
  }

  /** All-or-nothing over several locks. */
  multiLock(locks: Lockable[]): MultiLock {
    return new MultiLock(locks);
  }

  /** A MultiLock of the same name on every independent node (all must grant it). */
  multiLockOnAllNodes(name: string): MultiLock {
    return new MultiLock(this.independentNodes.map((node) => this.getLock(name, { node })));
  }

  /** RedLock of `name` over the independent nodes (a majority must grant it). */
  redLock(name: string, options?: RedLockOptions): RedLock {
    return new RedLock(this.engine, name, this.currentOwner(), this.independentNodes, options);
  }

  /**
   * Runs `fn` under the lock and always releases it. Inside `fn` the async call chain owns the lock,
   * so nested acquisitions of the same name re-enter. If the lock is lost, `context.signal` fires and
   * this rejects with `LockLostError` after `fn` settles.
   */
  withLock<T>(name: string, options: WithLockOptions, fn: (context: LockContext) => Promise<T>): Promise<T> {
    return this.withOwner(async () => {
      const handle = await this.getLock(name).lock(options);
      let result: T;
      try {
        result = await fn({
          signal: handle.signal,
          fencingToken: handle.fencingToken,
          assertHeld: (mode) => handle.assertHeld(mode),
        });
      } catch (error) {
        await handle.unlock().catch(() => undefined);
        throw error;
      }
      await handle.unlock();
      return result;
    });
  }

  /** Runs `fn` as one lock owner (reentrancy scope); joins the current owner if one is active. */
  withOwner<T>(fn: () => T): T {
    return this.engine.owners.run(fn);
  }

  /** Owner id of the current async call chain, if any. */
  currentOwnerId(): string | undefined {
    return this.engine.owners.current();
  }

  onLockLost(listener: (event: LockLostEvent) => void): () => void {
    return this.engine.subscribe('lockLost', listener);
  }

  /** Every first acquisition with how long it waited (metrics); returns the unsubscribe function. */
  onLockAcquired(listener: (event: LockAcquiredEvent) => void): () => void {
    return this.engine.subscribe('lockAcquired', listener);
  }

  /** Every wait that ended without the lock (`waitTime` > 0); returns the unsubscribe function. */
  onLockTimedOut(listener: (event: LockTimedOutEvent) => void): () => void {
    return this.engine.subscribe('lockTimedOut', listener);
  }

  onLockReleased(listener: (event: LockReleasedEvent) => void): () => void {
    return this.engine.subscribe('lockReleased', listener);
  }

  get nodeCount(): number {
    return this.engine.nodeCount;
  }

  /** Stops the watchdog and the extra subscribers; held locks then end with their lease. */
  close(): void {
    this.engine.close();
  }

  private currentOwner(): string {
    return this.engine.owners.current() ?? this.engine.owners.newOwnerId();
  }
}
