import type { CreateSeckillVoucherRequest, CreateVoucherRequest } from './dto/create-voucher.dto';
import type { VoucherResponse } from './dto/voucher.response';
import type { VoucherWithSale } from './voucher.repository';

/** The `tb_voucher` columns of a create request. */
export function voucherRow(request: CreateVoucherRequest | CreateSeckillVoucherRequest) {
  return {
    shopId: request.shopId,
    title: request.title,
    subTitle: request.subTitle ?? null,
    rules: request.rules ?? null,
    payValue: String(request.payValue),
    actualValue: String(request.actualValue),
  };
}

/** A voucher (and its sale, if any) as the API shows it. */
export function toResponse(voucher: VoucherWithSale): VoucherResponse {
  const response: VoucherResponse = {
    id: voucher.id,
    shopId: voucher.shopId,
    title: voucher.title,
    subTitle: voucher.subTitle,
    rules: voucher.rules,
    payValue: Number(voucher.payValue),
    actualValue: Number(voucher.actualValue),
    type: voucher.type,
    status: voucher.status,
  };
  if (voucher.seckill) {
    response.stock = voucher.seckill.stock;
    response.beginTime = voucher.seckill.beginTime.toISOString();
    response.endTime = voucher.seckill.endTime.toISOString();
  }
  return response;
}
