import type { LockContext } from '@seckill/lock';

/** One order waiting for the group commit, placed by a request that holds its user's lock. */
export interface SyncBatchMember {
  orderId: string;
  userId: string;
  voucherId: string;
  /** performance.now() after which the order must not commit (its request's deadline). */
  deadline: number;
  /** The sale's end (ms, Redis' clock): with it, the batch confirms the buyer in Redis after COMMIT. */
  saleEndMs?: number;
  /** performance.now() when the member's lock was granted. */
  lockedAt: number;
  /** The member's per-user lock, checked right before COMMIT. */
  lock: LockContext;
}

/** What the group commit did with one member. */
export type SyncBatchOutcome =
  /** Committed; `buyerConfirmed`: Redis remembers the buyer (confirmed with the batch). */
  | { kind: 'created'; buyerConfirmed: boolean }
  /**
   * The user holds a live order of this voucher. `raced`: that order was placed while this member held
   * the user's lock (a second order of the user within the batch, or one found inserted after the
   * lock was granted) — what the per-user lock excludes, so never under a working distributed lock.
   */
  | { kind: 'already-ordered'; orderId?: string; raced: boolean }
  | { kind: 'id-collision' }
  | { kind: 'sold-out' }
  | { kind: 'deadline' };

export interface Waiting {
  member: SyncBatchMember;
  resolve: (outcome: SyncBatchOutcome) => void;
  reject: (error: unknown) => void;
}

/** A member answered alone: its outcome, or the error it is rejected with. */
export interface Answer {
  waiting: Waiting;
  outcome?: SyncBatchOutcome;
  error?: unknown;
}
