import { Inject, Injectable, Logger } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app-config';
import { OrderLookupService } from './order-lookup.service';
import { DomainError } from '../common/errors/domain-error';
import { IdWorker } from '../id-worker/id-worker.service';
import { DistributedLock } from '@seckill/lock/nest';
import { RateLimitedError } from '../rate-limit/rate-limit.errors';
import { VoucherNotFoundError } from '../voucher/voucher.errors';
import { VoucherService } from '../voucher/voucher.service';
import { OrderMetrics } from './order-metrics';
import {
  AlreadyOrderedError,
  OrderDeadlineExceededError,
  OrderOutcomeUnknownError,
  saleRejection,
  SoldOutError,
} from './order.errors';
import { DuplicateOrderError, OrderIdCollisionError, OrderRepository } from './order.repository';
import type { SaleOrders } from './dto/sale-orders.response';
import type { SaleRequest } from '../voucher/sale-request';
import { ID_ATTEMPTS, USER_LOCK_WAIT_MS, type OrderAttempt } from './order-attempt';
import { BatchedOrderPlacer } from './sync/batched-order.placer';

const TRANSACTION_ATTEMPTS = 3;
/**
 * How long the read-back of an order whose COMMIT outcome is unknown waits for a transaction still
 * holding its row (then 503 ORDER_OUTCOME_UNKNOWN): with the request deadline (20 s) it stays below
 * nginx's 30 s.
 */
const READ_BACK_LOCK_WAIT_S = 5;

/**
 * InnoDB deadlock (1213) or lock wait timeout (1205): the transaction was rolled back and may be
 * retried. Under the per-user lock they do not occur; without it (LOCK_MODE=local), concurrent
 * inserts of one user's order can deadlock on the unique key.
 */
const isRetryableTransactionError = (error: unknown) => {
  const errno =
    (error as { errno?: number }).errno ?? (error as { driverError?: { errno?: number } }).driverError?.errno;
  return errno === 1213 || errno === 1205;
};

@Injectable()
export class OrderService {
  private readonly logger = new Logger(OrderService.name);

  constructor(
    private readonly vouchers: VoucherService,
    private readonly orders: OrderRepository,
    private readonly idWorker: IdWorker,
    private readonly metrics: OrderMetrics,
    private readonly batched: BatchedOrderPlacer,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly lookups: OrderLookupService,
  ) {}

  /**
   * Places one seckill order for `userId`. Checks, in order: the rate limits (RATE_LIMIT_*), voucher
   * exists, sale window (Redis' clock), stock, one order per user. Redis admits at most about `stock` requests (one
   * reserved unit each); sold-out, out-of-window and repeat requests never reach MySQL. Admitted
   * requests go through the per-user lock and one MySQL transaction, which decides.
   */
  async seckill(request: SaleRequest): Promise<string> {
    const { userId, voucherId } = request;
    try {
      const admitted = await this.vouchers.admit(request);
      if (!admitted) {
        throw new VoucherNotFoundError(`Seckill voucher ${voucherId} does not exist`);
      }
      if (admitted.admission === 'rate-limited') {
        throw RateLimitedError.after(admitted.retryAfterMs);
      }
      const rejection = saleRejection(admitted.admission);
      if (rejection) {
        throw rejection;
      }
      if (admitted.admission === 'unpublished') {
        throw new VoucherNotFoundError(`Seckill voucher ${voucherId} does not exist`);
      }
      const orderId = await this.placeReservedOrder(userId, voucherId, admitted.endMs);
      this.metrics.outcomes.inc({ outcome: 'created' });
      return orderId;
    } catch (error) {
      this.metrics.outcomes.inc({ outcome: error instanceof DomainError ? error.code : 'error' });
      throw error instanceof AlreadyOrderedError ? await this.withExistingOrder(error, request) : error;
    }
  }

  /**
   * ALREADY_ORDERED names the caller's existing live order, so a client that lost its 201/202 learns
   * it. Best effort: the answer stays ALREADY_ORDERED if the lookup fails (or, in async mode, while
   * the first order is still on its way to MySQL).
   */
  async withExistingOrder(error: AlreadyOrderedError, request: SaleRequest): Promise<AlreadyOrderedError> {
    if (error.extra?.orderId === undefined) {
      const orderId = await this.orders.findLiveId(request.userId, request.voucherId).catch(() => undefined);
      if (orderId !== undefined) {
        error.withOrder(orderId);
      }
    }
    return error;
  }

  /** Turns a reserved unit into an order, or gives the unit back when no order was made. */
  private async placeReservedOrder(userId: string, voucherId: string, endMs: number): Promise<string> {
    let orderId: string;
    // A monotonic clock: a wall clock stepped back (NTP) must not let an order commit after nginx gave up on it.
    const attempt: OrderAttempt = {
      deadline: performance.now() + this.config.ORDER_REQUEST_DEADLINE_MS,
      saleEndMs: endMs,
    };
    try {
      orderId = await this.placeOrderWithRetry(userId, voucherId, attempt);
    } catch (error) {
      const committed = await this.readBack(error, attempt);
      if (committed === undefined) {
        // MySQL said sold out: Redis is marked 0 (its stock was wrong, the reserved unit included),
        // outside the transaction and the lock; otherwise the unit goes back.
        // Failing, Redis is left above MySQL (admission only; MySQL still decides) until the reconciler.
        await (
          error instanceof SoldOutError ? this.vouchers.markSoldOut(voucherId) : this.vouchers.releaseUnit(voucherId)
        ).catch((correction: unknown) =>
          this.logger.warn(
            `Voucher ${voucherId}: Redis stock not corrected after a refused order: ${String(correction)}`,
          ),
        );
        throw error;
      }
      orderId = committed;
    }
    // Advisory copy only (MySQL decided); if this fails, the user's repeat is caught under the lock.
    // A group commit confirmed its members' buyers together already.
    if (!attempt.buyerConfirmed) {
      await this.vouchers.confirmBuyers(voucherId, [userId], endMs).catch(() => undefined);
    }
    return orderId;
  }

  /**
   * After an unexpected error (the connection lost during or after COMMIT, say) the order may exist:
   * its row is read back on a fresh pooled connection. Returns its id if it committed, undefined if
   * it certainly did not; throws 503 ORDER_OUTCOME_UNKNOWN (the unit stays reserved) if it cannot be
   * known. Business outcomes and failures before the insert are certain: no read.
   */
  private async readBack(error: unknown, attempt: OrderAttempt): Promise<string | undefined> {
    if (error instanceof DomainError || attempt.orderId === undefined) {
      return undefined;
    }
    try {
      // The server may still be finishing the COMMIT of the dropped connection (a slow fsync, a
      // semi-sync wait): the locking read waits for that transaction's row lock, so it sees the outcome.
      return (await this.orders.isCommitted(attempt.orderId, READ_BACK_LOCK_WAIT_S)) ? attempt.orderId : undefined;
    } catch (readError) {
      throw new OrderOutcomeUnknownError(
        `Whether order ${attempt.orderId} was committed cannot be known now: ${String(readError)}`,
      );
    }
  }

  private async placeOrderWithRetry(userId: string, voucherId: string, state: OrderAttempt): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        state.orderId = undefined;
        return await (this.config.ORDER_SYNC_BATCH_MAX > 1
          ? this.batched.place(userId, voucherId, state)
          : this.placeOrder(userId, voucherId, state));
      } catch (error) {
        if (attempt >= TRANSACTION_ATTEMPTS || !isRetryableTransactionError(error)) {
          throw error;
        }
      }
    }
  }

  /**
   * One user at a time (per-user distributed lock); the decorator opens the transaction inside
   * the lock and releases the lock only after commit or rollback.
   */
  // `lease`: the stock row is locked from its UPDATE to COMMIT; a Redis round trip there would
  // serialise every sale behind it. Expiry is still caught; the unique key is the last guard.
  @DistributedLock('order:{userId}', { waitTime: USER_LOCK_WAIT_MS, verifyBeforeCommit: 'lease' })
  async placeOrder(userId: string, voucherId: string, attempt: OrderAttempt = {}): Promise<string> {
    const existing = await this.orders.findLiveId(userId, voucherId);
    if (existing !== undefined) {
      throw new AlreadyOrderedError('You already ordered this voucher').withOrder(existing);
    }
    const orderId = await this.insertWithFreshId(userId, voucherId);
    attempt.orderId = orderId;
    if (!(await this.vouchers.decrementStock(voucherId))) {
      throw new SoldOutError('Sold out');
    }
    // Past the request's deadline nginx may have answered 504 already: roll back rather than
    // commit an order whose buyer was (or will be) told it failed.
    if (attempt.deadline !== undefined && performance.now() > attempt.deadline) {
      throw new OrderDeadlineExceededError('The order took too long and was not placed; try again');
    }
    return orderId;
  }

  /**
   * Inserts the order under a new id; an id that is taken (the counter went back, e.g. Redis
   * restarted empty within the same second) is replaced by the next one, never reported as a
   * repeat order. Insert before the stock update: the hot stock row stays locked only for UPDATE + COMMIT.
   */
  private async insertWithFreshId(userId: string, voucherId: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const orderId = (await this.idWorker.nextId('order')).toString();
      try {
        await this.orders.insert({
          id: orderId,
          userId,
          voucherId,
          paymentTimeoutMs: this.config.ORDER_PAYMENT_TIMEOUT_MS,
        });
        return orderId;
      } catch (error) {
        if (error instanceof DuplicateOrderError) {
          this.metrics.duplicateKeyRejections.inc();
          throw new AlreadyOrderedError('You already ordered this voucher');
        }
        if (!(error instanceof OrderIdCollisionError) || attempt >= ID_ATTEMPTS) {
          throw error;
        }
      }
    }
  }

  /** A sale's orders in MySQL (by status), units given back, and in async mode those still on their way (admin view). */
  saleOrders(voucherId: string): Promise<SaleOrders> {
    return this.lookups.saleOrders(voucherId);
  }
}
