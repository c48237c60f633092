import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../redis/redis-connections';
import { RedisScript } from '../redis/redis-script';
import { NEXT_ID_LUA } from './next-id.lua';
import { REDIS_CLIENT } from '../redis/redis.tokens';
import { IdSequenceExhaustedError, IdWorkerUnavailableError } from './id-worker.errors';

/** 2022-01-01T00:00:00Z, the seed's epoch. */
export const ID_EPOCH_SECONDS = 1_640_995_200;
const SEQUENCE_BITS = 32n;
const MAX_SEQUENCE = 2 ** 32 - 1;

const nextIdScript = RedisScript.of('next-id.lua', NEXT_ID_LUA, 1);

/** Source of the current time; tests may inject a fake one. */
export const ID_CLOCK = Symbol('ID_CLOCK');
export type Clock = () => number;

/** `icr:{prefix}:yyyy:MM:dd` in UTC; the hash tag keeps one prefix's days on one cluster slot. */
export function counterKey(prefix: string, epochSeconds: number): string {
  const day = new Date(epochSeconds * 1000).toISOString().slice(0, 10).replaceAll('-', ':');
  return `icr:{${prefix}}:${day}`;
}

/** Composes the seed's id: 31-bit seconds since 2022-01-01 UTC, shifted 32, OR the daily sequence. */
export function composeId(epochSeconds: number, sequence: number): bigint {
  if (sequence > MAX_SEQUENCE) {
    throw new IdSequenceExhaustedError(`Sequence ${sequence} does not fit in 32 bits`);
  }
  return (BigInt(epochSeconds - ID_EPOCH_SECONDS) << SEQUENCE_BITS) | BigInt(sequence);
}

/** Splits an id back into its time (Unix seconds) and sequence. */
export function decomposeId(id: bigint): { epochSeconds: number; sequence: number } {
  return {
    epochSeconds: Number(id >> SEQUENCE_BITS) + ID_EPOCH_SECONDS,
    sequence: Number(id & ((1n << SEQUENCE_BITS) - 1n)),
  };
}

/**
 * Globally unique, roughly time-ordered 64-bit ids (above 2^53: BigInt inside, decimal strings in
 * JSON, BIGINT in MySQL). Unique across replicas because the day of the counter key and the
 * timestamp come from the same reading of the clock; each caller's successive ids increase because
 * that reading never goes back. Concurrent calls may complete out of order (a NOSCRIPT retry
 * re-sends an earlier reading), so ids are time-ordered to the second, not in completion order.
 */
@Injectable()
export class IdWorker {
  private lastSeconds = 0;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: AppRedis,
    @Inject(ID_CLOCK) private readonly clock: Clock,
  ) {}

  async nextId(prefix: string): Promise<bigint> {
    // Never step back, even if the system clock does, so ids of this process keep increasing.
    const seconds = (this.lastSeconds = Math.max(this.lastSeconds, Math.floor(this.clock() / 1000)));
    const endOfNextDay = (Math.floor(seconds / 86_400) + 2) * 86_400;
    let sequence: number;
    try {
      sequence = await nextIdScript.run<number>(this.redis, [counterKey(prefix, seconds)], [endOfNextDay]);
    } catch (error) {
      throw new IdWorkerUnavailableError('Redis could not be reached to generate an id', { cause: error });
    }
    return composeId(seconds, sequence);
  }
}
