import type { LockLostError } from '../../lock.errors';
import type { ZooKeeperSession } from './zookeeper-session';

/** One owner's hold on one lock: its ephemeral sequential node, in the session that created it. */
export interface ZooKeeperHold {
  readonly name: string;
  readonly owner: string;
  /** Full path of the owner's node, e.g. `/locks/orders%3A7/lock-0000000042`. */
  readonly path: string;
  readonly session: ZooKeeperSession;
  readonly fencingToken: number;
  holds: number;
  readonly controller: AbortController;
  leaseTimer?: NodeJS.Timeout;
  lost?: LockLostError;
}
