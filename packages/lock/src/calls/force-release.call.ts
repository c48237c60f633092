import type { LockKeys } from '../lock-keys';
import { lockScripts } from '../lock-scripts';
import type { LockRedisClient } from '../redis-client';

/** Runs force-release.lua: deletes the lock whoever holds it and wakes its waiters; true if it existed. */
export async function forceRelease(
  client: LockRedisClient,
  request: { keys: LockKeys; sharded?: boolean },
): Promise<boolean> {
  const script = request.sharded ? lockScripts.forceReleaseSharded : lockScripts.forceRelease;
  return (await script.run<number>(client, [request.keys.lock, request.keys.channel], [])) === 1;
}
