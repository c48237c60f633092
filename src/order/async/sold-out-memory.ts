import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { AppRedis } from '../../redis/redis-connections';
import { REDIS_SUBSCRIBER } from '../../redis/redis.tokens';
import { RESTOCK_CHANNEL } from '../../voucher/seckill-keys';

/**
 * How long a replica answers SOLD_OUT from memory before asking Redis again. Restock messages
 * (pub/sub) end it at once; this bound covers a message lost while the subscriber reconnected.
 */
const REMEMBER_MS = 1000;

/**
 * Vouchers this replica has seen sold out, so that the flood of requests after the last unit is
 * answered without a Redis round trip (and never a MySQL query). A compensation that returns stock
 * publishes on `seckill:restock`; every replica forgets the voucher when it hears it.
 */
@Injectable()
export class SoldOutMemory implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SoldOutMemory.name);
  /** voucher id → until when (ms, this process's clock: it only bounds a cache, decides nothing). */
  private readonly soldOut = new Map<string, number>();
  /**
   * Restock messages heard (and reconnects) so far: a SOLD_OUT reply decided before a restock can
   * arrive after its message (another connection); it must not re-arm what the message cleared.
   */
  private restocks = 0;
  private readonly onMessage = (channel: string, voucherId: string) => {
    if (channel === RESTOCK_CHANNEL) {
      this.restocks++;
      this.soldOut.delete(voucherId);
    }
  };
  private readonly onReconnect = () => {
    this.restocks++;
    this.soldOut.clear();
  };

  constructor(@Inject(REDIS_SUBSCRIBER) private readonly subscriber: AppRedis) {}

  onModuleInit(): void {
    this.subscriber.on('message', this.onMessage);
    // Messages may have been missed while disconnected.
    this.subscriber.on('ready', this.onReconnect);
    this.subscriber.subscribe(RESTOCK_CHANNEL).catch((error: unknown) => {
      this.logger.warn(`Subscribing to ${RESTOCK_CHANNEL} failed: ${String(error)}`);
    });
  }

  onModuleDestroy(): void {
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReconnect);
  }

  isSoldOut(voucherId: string): boolean {
    const until = this.soldOut.get(voucherId);
    if (until === undefined) {
      return false;
    }
    if (until > Date.now()) {
      return true;
    }
    this.soldOut.delete(voucherId);
    return false;
  }

  /** Taken before an admission is sent; hand it to `remember` with the admission's SOLD_OUT. */
  mark(): number {
    return this.restocks;
  }

  /**
   * Answers SOLD_OUT from memory for a while — unless a restock was heard since `mark` (the reply
   * may predate it), and never past `endMs`, the sale's end (Redis' clock, as this process reads
   * it): after that Redis answers ENDED, which memory must not hide.
   */
  remember(voucherId: string, mark: number, endMs = Infinity): void {
    if (mark !== this.restocks) {
      return;
    }
    const until = Math.min(Date.now() + REMEMBER_MS, endMs);
    if (until > Date.now()) {
      this.soldOut.set(voucherId, until);
    }
  }
}
