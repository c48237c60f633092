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
  private readonly onMessage = (channel: string, voucherId: string) => {
    if (channel === RESTOCK_CHANNEL) {
      this.soldOut.delete(voucherId);
    }
  };
  private readonly onReconnect = () => this.soldOut.clear();

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

  remember(voucherId: string): void {
    this.soldOut.set(voucherId, Date.now() + REMEMBER_MS);
  }
}
