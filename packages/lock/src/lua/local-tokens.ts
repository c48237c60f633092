/**
 * Fencing tokens left unissued in Redis after every token it issues: the holder's process may hand
 * the lock on to its own next waiters without a round trip (a "local hand-over"), each new holder
 * taking the next of these (`token + 1`, `token + 2`, …), so up to this many local hand-overs follow
 * one Redis grant. The scripts' next token is at least `counter + 1 + LOCAL_TOKENS`, above every
 * token handed out locally — also when that process died before it could tell Redis anything.
 *
 * Kept small: each grant advances the counter by at least this much, and the counter must not run
 * ahead of the server clock in µs (its fallback when the counter is lost); one key cannot be
 * granted the ~60,000 times a second that 17 µs per grant would need.
 */
export const LOCAL_TOKENS = 16;
