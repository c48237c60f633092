import type { ReconcilerStatusStore } from './reconciler-status.store';
import type { ReserveBatcher } from './reserve.batcher';
import type { SeckillStateStore } from './seckill-state.store';
import { VoucherService } from './voucher.service';
import type { VoucherRepository } from './voucher.repository';

describe('VoucherService.markSoldOut (a fake repository and store)', () => {
  /** The calls in the order they were made, and what MySQL's committed stock reads. */
  function service(mysqlStock: number | null) {
    const calls: string[] = [];
    const repository = {
      committedStock: (voucherId: string) => {
        calls.push(`mysql stock ${voucherId}`);
        return Promise.resolve(mysqlStock);
      },
    } as unknown as VoucherRepository;
    const store = {
      returnedCount: (voucherId: string) => {
        calls.push(`count returns ${voucherId}`);
        return Promise.resolve(4);
      },
      markSoldOut: (voucherId: string, returnedBefore: number) => {
        calls.push(`mark ${voucherId} if returns = ${returnedBefore}`);
        return Promise.resolve(true);
      },
    } as unknown as SeckillStateStore;
    const vouchers = new VoucherService(repository, store, {} as ReconcilerStatusStore, {} as ReserveBatcher);
    return { vouchers, calls };
  }

  it('counts the returns before it reads MySQL, and marks only if nothing came back since', async () => {
    const { vouchers, calls } = service(0);
    await vouchers.markSoldOut('9');
    // Counted after the MySQL read, a return between the two would go unseen: the order matters.
    expect(calls).toEqual(['count returns 9', 'mysql stock 9', 'mark 9 if returns = 4']);
  });

  it('leaves Redis alone when MySQL has stock again (a cancelled order gave a unit back)', async () => {
    const { vouchers, calls } = service(1);
    await vouchers.markSoldOut('9');
    expect(calls).toEqual(['count returns 9', 'mysql stock 9']);
  });

  it('leaves Redis alone when the voucher has no seckill row', async () => {
    const { vouchers, calls } = service(null);
    await vouchers.markSoldOut('9');
    expect(calls).toEqual(['count returns 9', 'mysql stock 9']);
  });
});
