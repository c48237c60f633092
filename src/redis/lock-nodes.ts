import type { LockRedisClient } from '@seckill/lock/lua';
import type { AppRedis } from './redis-connections';
import { writtenPerTurn } from './redis-script';

/**
 * The lock library's Redis nodes: node 0 is the locks' own connection (`REDIS_LOCK_CLIENT`, its script
 * calls written per turn), serving single-node locks; then each `REDIS_LOCK_NODES` connection other
 * than it. `independentNodes` says where each `REDIS_LOCK_NODES` entry sits among them (node 0 where an
 * entry is `REDIS_URL` itself), for MultiLock/RedLock.
 */
export function lockNodesOf(
  client: AppRedis,
  lockNodes: AppRedis[],
): { nodes: LockRedisClient[]; independentNodes: number[] } {
  const others = lockNodes.filter((node) => node !== client);
  return {
    nodes: [writtenPerTurn(client), ...others],
    independentNodes: lockNodes.map((node) => (node === client ? 0 : 1 + others.indexOf(node))),
  };
}
