import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { DomainError } from '../../common/errors/domain-error';
import { SegmentIdWorker } from '../../id-worker/id-segment.service';
import { RateLimitedError } from '../../rate-limit/rate-limit.errors';
import type { SaleRequest } from '../../voucher/sale-request';
import { VoucherNotFoundError } from '../../voucher/voucher.errors';
import { VoucherService } from '../../voucher/voucher.service';
import { OrderMetrics } from '../order-metrics';
import { saleRejection, SaleEndedError, SoldOutError } from '../order.errors';
import { ActiveSales } from './active-sales';
import { AdmissionBatcher } from './admission-batcher';
import { AdmissionDurability } from './admission-durability';
import { OrderBacklogError, SaleUnavailableError } from './async-order.errors';
import { SaleRebuilder } from './sale-rebuilder';
import { SoldOutMemory } from './sold-out-memory';

/**
 * The asynchronous sale's admission (ORDER_MODE=async): a request is decided by one Lua script in
 * Redis (window by Redis TIME, stock, one order per user, backlog) which also appends the order to
 * the voucher's stream; the answer is 202 at once and consumers persist it in batches. MySQL is not
 * touched on this path, and no lock is taken: the script is atomic per voucher, and MySQL's primary
 * and unique keys make persistence idempotent.
 */
@Injectable()
export class AsyncAdmissionService {
  /** The counter child bound once: prom-client hashes the labels on every `inc({…})`. */
  private readonly accepted: Counter.Internal;

  constructor(
    private readonly ids: SegmentIdWorker,
    private readonly admissions: AdmissionBatcher,
    private readonly durability: AdmissionDurability,
    private readonly soldOut: SoldOutMemory,
    private readonly sales: ActiveSales,
    private readonly vouchers: VoucherService,
    private readonly rebuilder: SaleRebuilder,
    private readonly metrics: OrderMetrics,
  ) {
    this.accepted = metrics.outcomes.labels('accepted');
  }

  /** Accepts one order; resolves with its id once it is durably in the voucher's stream. */
  async seckill(request: SaleRequest): Promise<string> {
    try {
      const orderId = await this.admit(request);
      this.accepted.inc();
      return orderId;
    } catch (error) {
      this.metrics.outcomes.inc({ outcome: error instanceof DomainError ? error.code : 'error' });
      throw error;
    }
  }

  private async admit(request: SaleRequest): Promise<string> {
    const { voucherId } = request;
    // A sale found over with its Redis state gone stays over: answered from memory (no Redis, no MySQL).
    if (this.vouchers.endedAt(voucherId) !== undefined) {
      throw new SaleEndedError('The sale has ended');
    }
    // The flood after the last unit is answered from memory (no Redis, no MySQL).
    if (this.soldOut.isSoldOut(voucherId)) {
      throw new SoldOutError('Sold out');
    }
    this.durability.assertDurable();
    const orderId = (this.ids.take('order') ?? (await this.ids.nextId('order'))).toString();
    const restocks = this.soldOut.mark();
    const { admission, retryAfterMs, endMs } = await this.admissions.admit({ ...request, orderId });
    switch (admission) {
      case 'rate-limited':
        throw RateLimitedError.after(retryAfterMs);
      case 'accepted':
        this.sales.add(voucherId);
        await this.durability.confirm(voucherId);
        return orderId;
      case 'backlog':
        throw new OrderBacklogError('Orders are being persisted; try again shortly');
      case 'unpublished':
        return this.unpublished(voucherId);
      default:
        if (admission === 'sold-out') {
          this.soldOut.remember(voucherId, restocks, endMs);
        }
        throw saleRejection(admission)!;
    }
  }

  /**
   * No sale state in Redis: a voucher that does not exist, a sale over whose keys expired (a day after
   * its end, or at once for one created already ended: ENDED, remembered), or a live sale whose state
   * is missing (new and not yet published, or lost). The last is rebuilt; until then it is unavailable.
   */
  private async unpublished(voucherId: string): Promise<never> {
    const sale = await this.vouchers.unpublishedSale(voucherId);
    if (sale === 'missing') {
      throw new VoucherNotFoundError(`Seckill voucher ${voucherId} does not exist`);
    }
    if (sale === 'ended') {
      throw new SaleEndedError('The sale has ended');
    }
    void this.rebuilder.request(voucherId);
    throw new SaleUnavailableError('The sale is being restored; try again shortly');
  }
}
