import type { LockLostError } from '../../lock.errors';
import type { MySqlPinnedConnection } from './mysql-session-client';

/** One owner's hold on one lock, and the connection (session) that holds it on the server. */
export interface SessionHold {
  readonly name: string;
  readonly owner: string;
  readonly connection: MySqlPinnedConnection;
  readonly fencingToken: number;
  holds: number;
  readonly controller: AbortController;
  leaseTimer?: NodeJS.Timeout;
  lost?: LockLostError;
  /** The final release is under way (a heartbeat answered after it must not call the lock lost). */
  releasing?: boolean;
  /** Detaches the connection's error/end listeners. */
  detach: () => void;
}
