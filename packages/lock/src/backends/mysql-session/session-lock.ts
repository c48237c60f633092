import { lockFromTryLock } from '../../lock-from-try-lock';
import { assertCanAcquire } from '../acquire-checks';
import { locallyCountedHandle } from '../local-reentry-handle';
import { LockUnavailableError } from '../../lock.errors';
import type { AcquireOptions, LockHandle, Lockable } from '../../lock.types';
import type { MySqlSessionLockBackend } from './mysql-session.backend';
import type { SessionHold } from './session-hold';

/** One lock name held by one database session for one owner; reentrant per owner. */
export class MySqlSessionLock implements Lockable {
  constructor(
    private readonly backend: MySqlSessionLockBackend,
    readonly name: string,
    private readonly owner: string,
  ) {}

  async tryLock(options: AcquireOptions = {}): Promise<LockHandle | null> {
    assertCanAcquire(this.name, options, this.backend.isClosed);
    const existing = this.backend.hold(this.name, this.owner);
    if (existing && !existing.lost) {
      // The session holds it already: a re-entry needs no round trip (the heartbeat watches the session).
      existing.holds++;
      return this.handle(existing);
    }
    const startedAt = performance.now();
    const deadline = startedAt + (options.waitTime ?? 0);
    const timedOut = () => {
      if (options.waitTime) {
        this.backend.events.timedOut({ name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt });
      }
      return null;
    };
    const connection = await this.backend.pin(this.name, deadline);
    if (!connection) {
      return timedOut();
    }
    let grant;
    try {
      grant = await this.backend.style.grant(connection, this.name, Math.max(0, deadline - performance.now()));
    } catch (error) {
      // Whatever the session got is freed with it.
      connection.destroy();
      if (this.backend.isClosed) {
        throw new LockUnavailableError(`Lock backend closed while waiting for ${this.name}`, this.name, {
          cause: error,
        });
      }
      throw new LockUnavailableError(`MySQL could not be reached to acquire ${this.name}`, this.name, { cause: error });
    } finally {
      this.backend.unpin(connection);
    }
    if (grant.kind === 'busy') {
      connection.release();
      return timedOut();
    }
    const hold = this.backend.enter({
      name: this.name,
      owner: this.owner,
      connection,
      fencingToken: grant.fencingToken,
      leaseMs: options.leaseTime,
    });
    this.backend.events.acquired({ name: this.name, owner: this.owner, waitedMs: performance.now() - startedAt });
    return this.handle(hold);
  }

  lock(options: AcquireOptions = {}): Promise<LockHandle> {
    return lockFromTryLock(this, 'Lock', options);
  }

  private handle(hold: SessionHold): LockHandle {
    return locallyCountedHandle(this.name, hold, {
      check: async (mode) => {
        if (mode === 'lease') {
          // Nothing expires on its own while the session lives; its end is signalled.
          return;
        }
        let held: boolean;
        try {
          held = await this.backend.style.held(hold.connection, this.name);
        } catch (error) {
          throw this.backend.markLost(hold, 'session-ended', `session check failed: ${String(error)}`);
        }
        if (!held) {
          throw this.backend.markLost(hold, 'session-ended', 'the session no longer holds it');
        }
      },
      releaseLast: () => this.release(hold),
    });
  }

  /** The last hold's release. */
  private async release(hold: SessionHold): Promise<void> {
    if (hold.lost) {
      this.backend.leave(hold, false);
      throw hold.lost;
    }
    let released: boolean;
    hold.releasing = true;
    try {
      released = await this.backend.style.release(hold.connection, this.name);
    } catch (error) {
      // Closing the session frees the lock on the server all the same.
      this.backend.leave(hold, false);
      throw new LockUnavailableError(
        `MySQL could not be reached to release ${this.name}; its session was closed`,
        this.name,
        {
          cause: error,
        },
      );
    }
    if (!released) {
      const lost = this.backend.markLost(hold, 'session-ended', 'the session no longer held it at release');
      this.backend.leave(hold, false);
      throw lost;
    }
    this.backend.leave(hold, true);
    this.backend.events.released({ name: this.name, owner: this.owner });
  }
}
