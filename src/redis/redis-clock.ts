import { onNodeOf, type AppRedis } from './redis-connections';

/**
 * Redis' clock in ms (`TIME`): the one clock that decides, whichever replica asks. On a Cluster each
 * master has its own clock: `routingKey` picks the one that decides for it (the master whose
 * scripts check that key's sale window), so a decision and its scripts read the same clock.
 */
export async function redisNowMs(redis: AppRedis, routingKey?: string): Promise<number> {
  const [seconds, micros] =
    routingKey !== undefined && redis.isCluster
      ? ((await onNodeOf(redis, routingKey, (pipeline) => pipeline.time()))[0] as [string, string])
      : await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
