import { setMaxListeners } from 'node:events';
import type { LockBackend, LockBackendEvents } from '../../lock-backend';
import { BackendHolds } from '../backend-holds';
import { LockLostError } from '../../lock.errors';
import type { LockLostEvent, Lockable } from '../../lock.types';
import { inNeutralContext } from '../../neutral-context';
import { ZK, type ZooKeeperError, type ZooKeeperLockClient } from './zookeeper-client';
import type { ZooKeeperHold } from './zookeeper-hold';
import { ZooKeeperLock } from './zookeeper-lock';
import { ZooKeeperSession } from './zookeeper-session';

/** Options of the ZooKeeper backend. */
export interface ZooKeeperLockOptions {
  /**
   * Makes a new, not yet connected client, e.g.
   * `() => createClient('zk1:2181,zk2:2181,zk3:2181', { sessionTimeout: 10_000 })` with
   * node-zookeeper-client. Called on first use and again whenever a session is over (expired, or
   * presumed lost), since an expired client cannot be used again.
   */
  createClient: () => ZooKeeperLockClient;
  /** Parent of every lock's node (default `/locks`; created when missing). */
  root?: string;
  /** Timeout of every request but the wait for a predecessor (default 5 000 ms). */
  operationTimeoutMs?: number;
  /** How long a new session may take to connect (default 10 000 ms). */
  connectTimeoutMs?: number;
  logger?: { warn(message: string): void };
}

/**
 * ZooKeeper's lock recipe: each contender creates an ephemeral sequential node under the lock's
 * node; the lowest sequence holds the lock; every other waiter watches only its predecessor (no
 * herd on release). The node lives as long as the session that created it, so a dead holder is
 * freed when its session expires; the node's creation zxid is the fencing token (ZooKeeper orders
 * every write, so it increases with every grant of the lock, across sessions and leader changes).
 * Holds of a session that expires, or that the backend must presume lost, fire the lost signal.
 */
export class ZooKeeperLockBackend implements LockBackend {
  readonly kind = 'zookeeper';
  readonly root: string;
  readonly operationTimeoutMs: number;
  private current?: ZooKeeperSession;
  private readonly holds: BackendHolds<ZooKeeperHold>;
  private readonly parents = new Set<string>();
  private heartbeat?: NodeJS.Timeout;
  private beating = false;
  private closed = false;
  /** Wakes every waiter (close). */
  private readonly closing = new AbortController();

  constructor(readonly options: ZooKeeperLockOptions) {
    this.root = (options.root ?? '/locks').replace(/\/+$/, '');
    this.operationTimeoutMs = options.operationTimeoutMs ?? 5000;
    this.holds = new BackendHolds({ kind: this.kind, logger: options.logger });
    // Every waiter listens to it: any number of waiters is normal, not a leak.
    setMaxListeners(Infinity, this.closing.signal);
  }

  getLock(name: string, owner: string): Lockable {
    return new ZooKeeperLock(this, name, owner);
  }

  attach(events: LockBackendEvents): void {
    this.holds.events = events;
  }

  /** Where its locks' events go (the LockService's, once attached). */
  get events(): LockBackendEvents {
    return this.holds.events;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get closeSignal(): AbortSignal {
    return this.closing.signal;
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.closing.abort();
    // Closing the session deletes its nodes on the server: held locks end here, at shutdown.
    this.current?.end('backend closed');
    return Promise.resolve();
  }

  /** @internal the live session, a new one if the last is over. */
  session(): ZooKeeperSession {
    // Only a session that is over is replaced: an idle one is kept alive by the client's own pings.
    if (!this.current || this.current.isOver) {
      this.current?.end('replaced');
      const session = inNeutralContext(
        () =>
          new ZooKeeperSession(this.options.createClient(), {
            connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
            operationTimeoutMs: this.operationTimeoutMs,
          }),
      );
      session.ended.signal.addEventListener('abort', () => this.sessionOver(session), { once: true });
      this.current = session;
      this.parents.clear();
    }
    return this.current;
  }

  /** @internal the lock's node, created (with its parents) once per session. */
  async ensureParent(session: ZooKeeperSession, name: string, path: string): Promise<void> {
    if (this.parents.has(path)) {
      return;
    }
    await session.call<string>(name, (done) => session.client.mkdirp(path, done));
    this.parents.add(path);
  }

  /** @internal a parent that vanished (deleted by someone) must be created again. */
  forgetParent(path: string): void {
    this.parents.delete(path);
  }

  /** @internal */
  hold(name: string, owner: string): ZooKeeperHold | undefined {
    return this.holds.get(name, owner);
  }

  /** @internal the first hold, on the node `path`. */
  enter(hold: Omit<ZooKeeperHold, 'holds' | 'controller'>, leaseMs: number | undefined): ZooKeeperHold {
    const entered: ZooKeeperHold = { ...hold, holds: 1, controller: new AbortController() };
    this.holds.add(entered);
    if (leaseMs !== undefined) {
      this.holds.armLease(entered, leaseMs, () => {
        this.markLost(entered, 'lease-elapsed');
        this.removeNode(entered.session, entered.name, entered.path);
      });
    }
    inNeutralContext(() => {
      if (!this.heartbeat) {
        // Every sixth of the session timeout: the session's margin is a third (see ZooKeeperSession).
        const every = Math.max(20, Math.floor(hold.session.sessionTimeoutMs / 6));
        this.heartbeat = setInterval(() => void this.beat(), every).unref();
      }
    });
    return entered;
  }

  /** @internal */
  leave(hold: ZooKeeperHold): void {
    this.holds.remove(hold);
  }

  /** @internal */
  markLost(hold: ZooKeeperHold, reason: LockLostEvent['reason'], detail?: string): LockLostError {
    return this.holds.markLost(hold, reason, detail);
  }

  /**
   * @internal Deletes a node that must not stay (a waiter that gave up, a lease that ran out):
   * retried, since a left-over node would hold or queue for the lock until its session ends.
   */
  removeNode(session: ZooKeeperSession, name: string, path: string, attempt = 0): void {
    if (session.isOver) {
      return;
    }
    session
      .call<void>(name, (done) => session.client.remove(path, -1, (error) => done(error, undefined)))
      .catch((error: ZooKeeperError) => {
        if (error.code === ZK.NO_NODE || session.isOver) {
          return;
        }
        if (attempt >= 4) {
          // The node would stay until its session ends: end the session now instead.
          this.options.logger?.warn(`ZooKeeper node ${path} could not be removed; ending its session`);
          session.end('node could not be removed');
          return;
        }
        inNeutralContext(() =>
          setTimeout(() => this.removeNode(session, name, path, attempt + 1), 50 * 2 ** attempt).unref(),
        );
      });
  }

  private sessionOver(session: ZooKeeperSession): void {
    const reason = session.ended.signal.reason instanceof Error ? session.ended.signal.reason.message : 'session over';
    for (const hold of this.holds.values()) {
      if (hold.session === session) {
        this.markLost(hold, 'session-ended', reason);
      }
    }
  }

  /** The heartbeat: each held node still there, and the session not presumed lost. */
  private async beat(): Promise<void> {
    const live = [...this.holds.values()].filter((hold) => !hold.lost);
    if (live.length === 0 || this.closed) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      return;
    }
    for (const session of new Set(live.map((hold) => hold.session))) {
      if (session.presumedLost) {
        session.end('session presumed lost (no answer from ZooKeeper within the session timeout)');
      }
    }
    if (this.beating) {
      return;
    }
    this.beating = true;
    try {
      await Promise.all(
        live
          .filter((hold) => !hold.lost)
          .map(async (hold) => {
            const stat = await hold.session
              .call(hold.name, (done) => hold.session.client.exists(hold.path, done))
              .catch(() => undefined);
            if (stat === null && this.holds.isCurrent(hold)) {
              this.markLost(hold, 'expired-or-taken', 'its node is gone');
            }
          }),
      );
    } finally {
      this.beating = false;
    }
  }
}
