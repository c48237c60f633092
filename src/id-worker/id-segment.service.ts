import { Inject, Injectable } from '@nestjs/common';
import type { AppRedis } from '../redis/redis-connections';
import { RedisScript } from '../redis/redis-script';
import { NEXT_ID_BLOCK_LUA } from './next-id-block.lua';
import { REDIS_CLIENT } from '../redis/redis.tokens';
import { IdSequenceExhaustedError, IdWorkerUnavailableError } from './id-worker.errors';
import { composeId, counterKey, ID_CLOCK, type Clock } from './id-worker.service';

const nextBlockScript = RedisScript.of('next-id-block.lua', NEXT_ID_BLOCK_LUA, 1);
const MAX_SEQUENCE = 2 ** 32 - 1;

/** Sequence numbers reserved in Redis for one UTC day, handed out locally. */
interface Segment {
  day: number;
  next: number;
  last: number;
}

interface PrefixState {
  current?: Segment;
  /** Reserved ahead of time once the current block runs low, so no request waits for Redis. */
  spare?: Segment;
  refill?: Promise<void>;
}

/** How many sequence numbers one INCRBY reserves. */
export const ID_SEGMENT_SIZE = Symbol('ID_SEGMENT_SIZE');

/**
 * The IdWorker's segment mode: the same ids (`seconds << 32 | day's counter`) without a Redis round
 * trip per id. Blocks of the day's counter are reserved with one INCRBY and handed out locally; the
 * next block is fetched when a quarter of the current one is left.
 *
 * Unique across replicas and restarts: blocks of one day's counter never overlap, and an id's day
 * is the day of its counter key (a block is dropped when the day turns). Increasing within a
 * process: the seconds part never goes back, and within a second the counter only grows.
 */
@Injectable()
export class SegmentIdWorker {
  private readonly prefixes = new Map<string, PrefixState>();
  private lastSeconds = 0;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: AppRedis,
    @Inject(ID_CLOCK) private readonly clock: Clock,
    @Inject(ID_SEGMENT_SIZE) private readonly segmentSize: number,
  ) {}

  /** The next id, or undefined if no reserved number is left for today (then `nextId` waits for one). */
  take(prefix: string): bigint | undefined {
    const seconds = (this.lastSeconds = Math.max(this.lastSeconds, Math.floor(this.clock() / 1000)));
    const day = Math.floor(seconds / 86_400);
    const state = this.state(prefix);
    let segment = state.current;
    if (!segment || segment.day !== day || segment.next > segment.last) {
      segment = state.spare && state.spare.day === day ? state.spare : undefined;
      state.current = segment;
      state.spare = undefined;
      if (!segment) {
        return undefined;
      }
    }
    const sequence = segment.next++;
    if (!state.spare && !state.refill && segment.last - segment.next < this.segmentSize / 4) {
      this.refill(prefix, state, seconds).catch(() => undefined);
    }
    return composeId(seconds, sequence);
  }

  async nextId(prefix: string): Promise<bigint> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = this.take(prefix);
      if (id !== undefined) {
        return id;
      }
      const state = this.state(prefix);
      // The seconds `take` uses (they never go back), so the block is for the day it will ask for.
      await (state.refill ?? this.refill(prefix, state, this.lastSeconds));
    }
    throw new IdWorkerUnavailableError('No id block could be reserved');
  }

  private state(prefix: string): PrefixState {
    let state = this.prefixes.get(prefix);
    if (!state) {
      state = {};
      this.prefixes.set(prefix, state);
    }
    return state;
  }

  private refill(prefix: string, state: PrefixState, seconds: number): Promise<void> {
    const day = Math.floor(seconds / 86_400);
    const endOfNextDay = (day + 2) * 86_400;
    state.refill = nextBlockScript
      .run<number>(this.redis, [counterKey(prefix, seconds)], [this.segmentSize, endOfNextDay])
      .then(
        (last) => {
          if (last > MAX_SEQUENCE) {
            throw new IdSequenceExhaustedError(`Sequence ${last} of ${prefix} does not fit in 32 bits`);
          }
          state.spare = { day, next: last - this.segmentSize + 1, last };
        },
        (error: unknown) => {
          throw new IdWorkerUnavailableError('Redis could not be reached to reserve ids', { cause: error });
        },
      )
      .finally(() => {
        state.refill = undefined;
      });
    return state.refill;
  }
}
