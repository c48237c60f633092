import { InvalidLockKeyError } from './lock.errors';

const MAX_NAME_LENGTH = 200;

/**
 * Redis keys of one lock. The `{name}` hash tag puts the hash, the fence counter and the channel of
 * a lock in the same cluster slot, so one script can touch all of them.
 */
export interface LockKeys {
  lock: string;
  fence: string;
  channel: string;
  /** The queue of processes waiting in Redis (member: process id, score: arrival µs). */
  waiters: string;
  /** What each queued process waits with (process id → owner, lease, listed-until ms). */
  waiterInfo: string;
  /** Local hand-overs in a row while other processes were queued. */
  burst: string;
  /** KEYS of the scripts' calls, built once per name (acquire, acquire listing a waiter, release, release with hand-over). */
  acquireKeys: readonly string[];
  waitKeys: readonly string[];
  releaseKeys: readonly string[];
  handoverKeys: readonly string[];
}

export function validateLockName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new InvalidLockKeyError(`Lock name must be 1..${MAX_NAME_LENGTH} characters`, String(name));
  }
  if (/[{}\s]/.test(name)) {
    throw new InvalidLockKeyError('Lock name must not contain braces or white space', name);
  }
}

const cache = new Map<string, LockKeys>();
const CACHE_LIMIT = 10_000;

/** Keys of a lock; recently used names are cached (hot locks are taken over and over). */
export function lockKeys(prefix: string, name: string): LockKeys {
  const cacheKey = prefix + name;
  const cached = cache.get(cacheKey);
  if (cached) {
    return cached;
  }
  const keys = buildKeys(prefix, name);
  if (cache.size >= CACHE_LIMIT) {
    cache.clear();
  }
  cache.set(cacheKey, keys);
  return keys;
}

function buildKeys(prefix: string, name: string): LockKeys {
  validateLockName(name);
  const lock = `${prefix}{${name}}`;
  const fence = `${lock}:fence`;
  const channel = `${lock}:released`;
  const waiters = `${lock}:waiters`;
  const waiterInfo = `${lock}:waiter-info`;
  const burst = `${lock}:burst`;
  return {
    lock,
    fence,
    channel,
    waiters,
    waiterInfo,
    burst,
    acquireKeys: [lock, fence],
    waitKeys: [lock, fence, waiters, waiterInfo],
    // A final release may grant the lock to the first queued process: it needs the queue too.
    releaseKeys: [lock, channel, waiters, fence, waiterInfo, burst],
    handoverKeys: [lock, channel, waiters, fence, waiterInfo, burst],
  };
}

/** Identifies a lock of one node in this process; node 0's is the lock key itself (no string built per call). */
export const gateKey = (node: number, lockKey: string) => (node === 0 ? lockKey : `${node}|${lockKey}`);
