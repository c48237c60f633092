import { REDIS_BACKEND, type LockBackend, type LockBackendEvents } from './lock-backend';
import { LockEngine } from './lock-engine';
import type { LockEngineOptions, LockEvents } from './lock-engine-options';
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

/** Options of `new LockService(…)`: the engine's (nodes, subscriber, prefix, watchdog, logger) plus which nodes are independent. */
export interface LockServiceOptions extends LockEngineOptions {
  /** Indexes of `nodes` that MultiLock-on-all-nodes and RedLock span (default: all). */
  independentNodes?: number[];
  /** Further lock stores, chosen per call by their `kind` (`{ backend: 'mysql-table' }`); Redis stays the default. */
  backends?: LockBackend[];
  /** The store `withLock` (and so `@DistributedLock`) uses when a call names none (default `redis`). */
  defaultBackend?: string;
}

/** Options of `withLock`: acquisition options plus which kind of lock. */
export interface WithLockOptions extends AcquireOptions {
  /** Wait forever when omitted; otherwise `LockTimeoutError` after this many ms. */
  waitTime?: number;
  /** Which store holds the lock: `redis` or the `kind` of a backend given to the service (default: the service's `defaultBackend`). */
  backend?: string;
  /**
   * `false`: the call is an owner of its own and opens no AsyncLocalStorage frame, so an acquisition
   * of the same lock inside `fn` waits for this one instead of re-entering. For critical sections
   * that never re-enter (the order path): on Node 20 an active AsyncLocalStorage puts a hook on
   * every promise of the process (up to ~10 % of a sync-sale replica's CPU in paired runs,
   * docs/BENCHMARKS.md). Default true.
   */
  reentrant?: boolean;
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

  private readonly backends = new Map<string, LockBackend>();

  private readonly defaultBackend: string;

  /** @param options.nodes Redis connections; node 0 serves single-node locks. */
  constructor(options: LockServiceOptions) {
    const { independentNodes, backends = [], defaultBackend = REDIS_BACKEND, ...engineOptions } = options;
    this.engine = new LockEngine(engineOptions);
    this.independentNodes = independentNodes ?? Array.from({ length: options.nodes.length }, (_, i) => i);
    for (const backend of backends) {
      if (backend.kind === REDIS_BACKEND || this.backends.has(backend.kind)) {
        throw new Error(`Lock backend kind ${backend.kind} is taken`);
      }
      this.backends.set(backend.kind, backend);
      backend.attach?.(this.eventsOf(backend.kind));
    }
    if (defaultBackend !== REDIS_BACKEND && !this.backends.has(defaultBackend)) {
      throw new Error(`Default lock backend ${defaultBackend} is not among the configured backends`);
    }
    this.defaultBackend = defaultBackend;
  }

  /** A reentrant lock owned by the current async call chain (or a fresh owner outside one). */
  getLock(name: string, options: { node?: number } = {}): ReentrantLock {
    return new ReentrantLock(this.engine, name, this.currentOwner(), { node: options.node });
  }

  /**
   * A fair lock: granted in arrival order across every owner of every process, as Redisson's
   * RFairLock — each waiter queues in Redis and the release grants the lock to the first live one
   * directly. A waiter that died is skipped once its listing lapses (about 2 s), and one granted the
   * lock just before it died holds it for a 2 s first lease at most: the queue stalls ~3 s at most,
   * once. A distinct lock from `getLock(name)` (its keys are those of `fair:<name>`).
   */
  getFairLock(name: string): ReentrantLock {
    return new ReentrantLock(this.engine, `fair:${name}`, this.currentOwner(), { fair: true });
  }

  /**
   * The lock `name` in the store `backend` (`redis` or a configured backend's kind), owned like
   * `getLock`'s by the current async call chain.
   */
  getLockIn(backend: string, name: string): Lockable {
    return this.lockOf(backend, name, this.currentOwner());
  }

  private lockOf(backend: string, name: string, owner: string): Lockable {
    if (backend === REDIS_BACKEND) {
      return new ReentrantLock(this.engine, name, owner, {});
    }
    const store = this.backends.get(backend);
    if (!store) {
      const known = [REDIS_BACKEND, ...this.backends.keys()].join(', ');
      throw new Error(`No lock backend ${backend} (configured: ${known})`);
    }
    return store.getLock(name, owner);
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
   * so nested acquisitions of the same name re-enter (unless `reentrant: false`). If the lock is
   * lost, `context.signal` fires and this rejects with `LockLostError` after `fn` settles.
   */
  withLock<T>(name: string, options: WithLockOptions, fn: (context: LockContext) => Promise<T>): Promise<T> {
    const backend = options.backend ?? this.defaultBackend;
    if (options.reentrant === false) {
      return this.runHeld(this.lockOf(backend, name, this.engine.owners.newOwnerId()), options, fn);
    }
    return this.withOwner(() => this.runHeld(this.getLockIn(backend, name), options, fn));
  }

  /** Takes `lock`, runs `fn` with its context, and releases it whatever `fn` did. */
  private async runHeld<T>(
    lock: Lockable,
    options: WithLockOptions,
    fn: (context: LockContext) => Promise<T>,
  ): Promise<T> {
    const handle = await lock.lock(options);
    let result: T;
    try {
      result = await fn({
        // Read lazily: most callers never look, and an AbortController per hold is not free.
        get signal() {
          return handle.signal;
        },
        fencingToken: handle.fencingToken,
        assertHeld: (mode) => handle.assertHeld(mode),
      });
    } catch (error) {
      await handle.unlock().catch(() => undefined);
      throw error;
    }
    await handle.unlock();
    return result;
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
    for (const backend of this.backends.values()) {
      backend
        .close()
        .catch((error: unknown) =>
          this.engine.options.logger?.warn(`Closing backend ${backend.kind}: ${String(error)}`),
        );
    }
  }

  /** A backend's events, emitted as the service's (outside any caller's async context, as Redis' are). */
  private eventsOf(kind: string): LockBackendEvents {
    const emit = <E extends keyof LockEvents>(event: E, payload: LockEvents[E][0]) =>
      this.engine.emitNeutral(event, { ...payload, backend: kind });
    return {
      acquired: (event) => emit('lockAcquired', event),
      timedOut: (event) => emit('lockTimedOut', event),
      released: (event) => emit('lockReleased', event),
      lost: (event) => emit('lockLost', event),
    };
  }

  private currentOwner(): string {
    return this.engine.owners.current() ?? this.engine.owners.newOwnerId();
  }
}
