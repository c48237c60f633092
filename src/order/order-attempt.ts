/** What one order attempt got as far as: its id once the row was inserted (for a read-back). */
export interface OrderAttempt {
  orderId?: string;
  /** When the request must have its answer (ms, `performance.now()`: a timeout, not a sale decision). */
  deadline?: number;
  /** The sale's end (ms, Redis' clock), for how long Redis remembers the buyer. */
  saleEndMs?: number;
  /** Set once the buyer was confirmed in Redis with its batch (nothing left to confirm). */
  buyerConfirmed?: boolean;
}

/** How long a user's second concurrent order waits for the first before a 409 LOCK_TIMEOUT. */
export const USER_LOCK_WAIT_MS = 10_000;

/** Fresh ids tried when an order id collides with an existing row. */
export const ID_ATTEMPTS = 5;
