import { Transactional } from '@nestjs-cls/transactional';
import { Injectable, Logger } from '@nestjs/common';
import { InvalidInputError } from '../common/errors/domain-error';
import type { CreateSeckillVoucherRequest, CreateVoucherRequest } from './dto/create-voucher.dto';
import type { VoucherResponse } from './dto/voucher.response';
import { SeckillStateStore } from './seckill-state.store';
import { VoucherType } from './voucher.entity';
import { VoucherNotFoundError } from './voucher.errors';
import { toResponse, voucherRow } from './voucher.mapper';
import { VoucherRepository } from './voucher.repository';

const PUBLISH_ATTEMPTS = 3;

/** The vouchers themselves (the voucher routes): creating them — a seckill one with its sale published to Redis — and reading them. */
@Injectable()
export class VoucherCatalogService {
  private readonly logger = new Logger(VoucherCatalogService.name);

  constructor(
    private readonly repository: VoucherRepository,
    private readonly stateStore: SeckillStateStore,
  ) {}

  @Transactional()
  async createVoucher(request: CreateVoucherRequest): Promise<string> {
    return this.repository.insertVoucher({ ...voucherRow(request), type: VoucherType.Normal });
  }

  /** Writes both rows in one transaction, then publishes the sale state to Redis. */
  async createSeckillVoucher(request: CreateSeckillVoucherRequest): Promise<string> {
    const beginTime = new Date(request.beginTime);
    const endTime = new Date(request.endTime);
    if (!(beginTime.getTime() < endTime.getTime())) {
      throw new InvalidInputError('INVALID_TIME_WINDOW', 'beginTime must be before endTime');
    }
    const id = await this.insertSeckill(request, beginTime, endTime);
    await this.publishWithRetry(id, { stock: request.stock, beginTime, endTime });
    return id;
  }

  async findOne(id: string): Promise<VoucherResponse> {
    const voucher = await this.repository.findWithSale(id);
    if (!voucher) {
      throw new VoucherNotFoundError(`Voucher ${id} does not exist`);
    }
    return toResponse(voucher);
  }

  async listByShop(shopId: string): Promise<VoucherResponse[]> {
    return (await this.repository.listByShop(shopId)).map(toResponse);
  }

  @Transactional()
  private async insertSeckill(request: CreateSeckillVoucherRequest, beginTime: Date, endTime: Date): Promise<string> {
    const id = await this.repository.insertVoucher({ ...voucherRow(request), type: VoucherType.Seckill });
    await this.repository.insertSeckill({ voucherId: id, stock: request.stock, beginTime, endTime });
    return id;
  }

  private async publishWithRetry(id: string, sale: { stock: number; beginTime: Date; endTime: Date }): Promise<void> {
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      try {
        // Never over an existing state: a retry whose first attempt did write must not reset a sale.
        await this.stateStore.publish(id, sale);
        return;
      } catch (error) {
        this.logger.warn(`Publishing sale state of voucher ${id} failed (attempt ${attempt}): ${String(error)}`);
      }
    }
    // Not fatal: MySQL is authoritative; the order path and the reconciler republish it.
  }
}
