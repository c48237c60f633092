import type { HeldLock } from './held-lock';
import { signalOf } from './held-locks';
import { alreadyReleased } from './lock-handle';
import type { LockRef, LockSteps, VerifyMode } from './lock-steps';
import type { LockHandle } from './lock.types';

/** What a handle asks of its lock: check and release the hold it was handed. */
export interface HoldOwner {
  readonly name: string;
  assertHeld(state: HeldLock, mode?: VerifyMode): Promise<void>;
  release(state: HeldLock): Promise<void>;
}

/** A hold of a ReentrantLock; `signal` is created only when read. */
export class ReentrantLockHandle implements LockHandle {
  private released = false;

  constructor(
    private readonly lock: HoldOwner,
    private readonly state: HeldLock,
    readonly fencingToken: number,
    readonly holdCount: number,
  ) {}

  get name(): string {
    return this.lock.name;
  }

  get signal(): AbortSignal {
    return signalOf(this.state);
  }

  assertHeld(mode?: VerifyMode): Promise<void> {
    return this.lock.assertHeld(this.state, mode);
  }

  unlock(): Promise<void> {
    if (this.released) {
      return Promise.reject(alreadyReleased(this.name));
    }
    this.released = true;
    return this.lock.release(this.state);
  }
}

/** Records a granted hold of `lock` (a first hold or a re-entry) and hands out its handle. */
export function handOut(
  steps: Pick<LockSteps, 'hold'>,
  lock: LockRef,
  holder: HoldOwner,
  grant: { sentAt: number; fencingToken: number; holdCount: number; leaseTime: number | undefined },
): LockHandle {
  const { sentAt, fencingToken, holdCount, leaseTime } = grant;
  const { node, name, keys, gateId, owner } = lock;
  const state = steps.hold({ gateId, node, name, keys, owner, sentAt, fencingToken, holdCount, leaseTime });
  return new ReentrantLockHandle(holder, state, fencingToken, holdCount);
}
