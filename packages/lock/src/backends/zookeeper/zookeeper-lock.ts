import { lockFromTryLock } from '../../lock-from-try-lock';
import { assertCanAcquire } from '../acquire-checks';
import { locallyCountedHandle } from '../local-reentry-handle';
import { LockUnavailableError } from '../../lock.errors';
import type { AcquireOptions, LockHandle, Lockable } from '../../lock.types';
import { ZK, type ZooKeeperError, type ZooKeeperStat } from './zookeeper-client';
import type { ZooKeeperHold } from './zookeeper-hold';
import type { ZooKeeperLockBackend } from './zookeeper.backend';
import type { ZooKeeperSession } from './zookeeper-session';

const NODE_PREFIX = 'lock-';

/** A lock name as one path segment: no `/`, no `.` or `..`, nothing ZooKeeper refuses. */
const segment = (name: string) => encodeURIComponent(name).replace(/\./g, '%2E');

/** The sequence ZooKeeper appended (10 digits), for ordering the children. */
const sequence = (node: string) => Number(node.slice(-10));

/** A zxid (8 bytes, big-endian) as a number: epoch in the high 32 bits, counter below. */
const zxid = (stat: ZooKeeperStat) => Number(stat.czxid.readBigUInt64BE(0));

/** One lock name as held by one owner, by ZooKeeper's recipe; reentrant per owner. */
export class ZooKeeperLock implements Lockable {
  private readonly parent: string;

  constructor(
    private readonly backend: ZooKeeperLockBackend,
    readonly name: string,
    private readonly owner: string,
  ) {
    this.parent = `${backend.root}/${segment(name)}`;
  }

  async tryLock(options: AcquireOptions = {}): Promise<LockHandle | null> {
    assertCanAcquire(this.name, options, this.backend.isClosed);
    const existing = this.backend.hold(this.name, this.owner);
    if (existing && !existing.lost) {
      // Our node is still the lowest (the heartbeat watches it): a re-entry needs no round trip.
      existing.holds++;
      return this.handle(existing);
    }
    const startedAt = performance.now();
    const deadline = startedAt + (options.waitTime ?? 0);
    const session = this.backend.session();
    const path = await this.createNode(session);
    let hold: ZooKeeperHold | undefined;
    try {
      // The stat (for the token) and the first listing are pipelined on the session.
      const [stat, turn] = await Promise.all([
        session.call<ZooKeeperStat | null>(this.name, (done) => session.client.exists(path, done)),
        this.waitForTurn(session, path, deadline),
      ]);
      if (!turn) {
        if (options.waitTime) {
          this.backend.events.timedOut({ name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt });
        }
        return null;
      }
      if (!stat) {
        throw new LockUnavailableError(`ZooKeeper node of ${this.name} vanished (session over)`, this.name);
      }
      hold = this.backend.enter(
        { name: this.name, owner: this.owner, path, session, fencingToken: zxid(stat) },
        options.leaseTime,
      );
      this.backend.events.acquired({ name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt });
      return this.handle(hold);
    } catch (error) {
      throw unavailable(this.name, 'acquire', error);
    } finally {
      if (!hold) {
        // A waiter that gave up (or failed) must not stay in the queue.
        this.backend.removeNode(session, this.name, path);
      }
    }
  }

  lock(options: AcquireOptions = {}): Promise<LockHandle> {
    return lockFromTryLock(this, 'Lock', options);
  }

  private async createNode(session: ZooKeeperSession): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      await this.backend.ensureParent(session, this.name, this.parent).catch((error) => {
        throw unavailable(this.name, 'create the lock node of', error);
      });
      try {
        return await session.call<string>(this.name, (done) =>
          session.client.create(
            `${this.parent}/${NODE_PREFIX}`,
            Buffer.from(this.owner),
            ZK.EPHEMERAL_SEQUENTIAL,
            done,
          ),
        );
      } catch (error) {
        if ((error as ZooKeeperError).code === ZK.NO_NODE && attempt === 0) {
          // The lock's node was deleted since this session created it: once more, with its parents.
          this.backend.forgetParent(this.parent);
          continue;
        }
        throw unavailable(this.name, 'queue for', error);
      }
    }
  }

  /**
   * Resolves true when `path` is the lowest child (the lock is ours), false at the deadline. Each
   * round lists the children and watches only the predecessor; its deletion (release, or the end
   * of its session) starts the next round.
   */
  private async waitForTurn(session: ZooKeeperSession, path: string, deadline: number): Promise<boolean> {
    const node = path.slice(this.parent.length + 1);
    for (;;) {
      const children = (
        await session.call<string[]>(this.name, (done) => session.client.getChildren(this.parent, done))
      )
        .filter((child) => child.startsWith(NODE_PREFIX))
        .sort((a, b) => sequence(a) - sequence(b));
      const index = children.indexOf(node);
      if (index < 0) {
        throw new LockUnavailableError(`ZooKeeper node of ${this.name} vanished (session over)`, this.name);
      }
      if (index === 0) {
        return true;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        return false;
      }
      const predecessor = `${this.parent}/${children[index - 1]}`;
      let wake!: () => void;
      const deleted = new Promise<void>((resolve) => (wake = resolve));
      const present = await session.call<ZooKeeperStat | null>(this.name, (done) =>
        session.client.exists(predecessor, () => wake(), done),
      );
      if (!present) {
        continue;
      }
      if (!(await this.until(deleted, deadline, session))) {
        return false;
      }
    }
  }

  /** Waits for `event`; false at the deadline; throws if the session ends or the backend closes. */
  private until(event: Promise<void>, deadline: number, session: ZooKeeperSession): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const ms = Math.min(deadline - performance.now(), 2 ** 31 - 1);
      const timer = setTimeout(() => finish(() => resolve(false)), Math.max(0, ms));
      const onOver = () =>
        finish(() =>
          reject(new LockUnavailableError(`ZooKeeper session ended while waiting for ${this.name}`, this.name)),
        );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        session.ended.signal.removeEventListener('abort', onOver);
        this.backend.closeSignal.removeEventListener('abort', onOver);
        settle();
      };
      session.ended.signal.addEventListener('abort', onOver, { once: true });
      this.backend.closeSignal.addEventListener('abort', onOver, { once: true });
      void event.then(() => finish(() => resolve(true)));
    });
  }

  private handle(hold: ZooKeeperHold): LockHandle {
    return locallyCountedHandle(this.name, hold, {
      check: async (mode) => {
        if (mode === 'lease' && !hold.session.presumedLost) {
          return;
        }
        let stat: ZooKeeperStat | null;
        try {
          stat = await hold.session.call(this.name, (done) => hold.session.client.exists(hold.path, done));
        } catch (error) {
          throw unavailable(this.name, 'check', error);
        }
        if (!stat) {
          throw this.backend.markLost(hold, 'expired-or-taken', 'its node is gone');
        }
      },
      releaseLast: () => this.release(hold),
    });
  }

  /** The last hold's release. */
  private async release(hold: ZooKeeperHold): Promise<void> {
    this.backend.leave(hold);
    if (hold.lost) {
      this.backend.removeNode(hold.session, this.name, hold.path);
      throw hold.lost;
    }
    try {
      await hold.session.call<void>(this.name, (done) =>
        hold.session.client.remove(hold.path, -1, (error) => done(error, undefined)),
      );
    } catch (error) {
      if ((error as ZooKeeperError).code === ZK.NO_NODE) {
        throw this.backend.markLost(hold, 'expired-or-taken', 'its node was gone at release');
      }
      // Not known to be deleted: retried in the background, else the session is ended.
      this.backend.removeNode(hold.session, this.name, hold.path);
      throw unavailable(this.name, 'release', error);
    }
    this.backend.events.released({ name: this.name, owner: this.owner });
  }
}

const unavailable = (name: string, step: string, cause: unknown) =>
  cause instanceof LockUnavailableError
    ? cause
    : new LockUnavailableError(`ZooKeeper could not be reached to ${step} ${name}`, name, { cause });
