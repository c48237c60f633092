import { DomainError } from '../common/errors/domain-error';

export class VoucherNotFoundError extends DomainError {
  override readonly name = VoucherNotFoundError.name;
  readonly status = 404;
  readonly code = 'VOUCHER_NOT_FOUND';
}
