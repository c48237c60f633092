import type { Redis } from 'ioredis';

/** Redis' clock in ms (`TIME`): the one clock that decides, whichever replica asks. */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
