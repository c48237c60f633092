import type { LockKeys } from '../lock-keys';
import { lockScripts } from '../lock-scripts';
import type { LockRedisClient } from '../redis-client';

/**
 * Runs leave-queue.lua for a waiter that gives up: removes its process's queue entry if it still
 * names `owner`. Resolves 0, or the fencing token if a release granted `owner` the lock meanwhile
 * (then `owner` holds it).
 */
export function leaveQueue(
  client: LockRedisClient,
  request: { keys: LockKeys; owner: string; processId: string },
  mapError: (error: unknown) => Error,
): Promise<number> {
  return lockScripts.leaveQueue.run<number>(
    client,
    [...request.keys.waitKeys],
    [request.owner, request.processId],
    mapError,
  );
}
