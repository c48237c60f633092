import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export enum OrderStatus {
  Unpaid = 1,
  Paid = 2,
  Used = 3,
  Cancelled = 4,
  Refunding = 5,
  Refunded = 6,
}

/** Why an unpaid order was cancelled: by its buyer, or by the system at its payment deadline. */
export type CancelReason = 'USER' | 'EXPIRED';

/** Statuses in which an order no longer holds the buyer's one order of the sale (`live_user_id` is NULL). */
export const RELEASED_STATUSES = [OrderStatus.Cancelled, OrderStatus.Refunded] as const;

/**
 * `tb_voucher_order`. `id` comes from IdWorker (above 2^53: a decimal string here). One *live* order
 * per user and voucher: `UNIQUE(live_user_id, voucher_id)`, where the generated `live_user_id` is
 * NULL once the order is cancelled or refunded (migration 1765200000000).
 */
@Entity('tb_voucher_order')
export class VoucherOrder {
  @PrimaryColumn({ type: 'bigint', unsigned: true })
  id: string;

  @Column({ name: 'user_id', type: 'bigint', unsigned: true })
  userId: string;

  @Column({ name: 'voucher_id', type: 'bigint', unsigned: true })
  voucherId: string;

  @Column({ name: 'pay_type', type: 'tinyint', unsigned: true, default: 1 })
  payType: number;

  @Column({ type: 'tinyint', unsigned: true, default: OrderStatus.Unpaid })
  status: OrderStatus;

  @CreateDateColumn({ name: 'create_time', type: 'datetime', precision: 3 })
  createTime: Date;

  /** An unpaid order past this (the database's clock decides) is cancelled with reason EXPIRED. */
  @Column({ name: 'pay_deadline', type: 'datetime', precision: 3, nullable: true })
  payDeadline: Date | null;

  @Column({ name: 'pay_time', type: 'datetime', precision: 3, nullable: true })
  payTime: Date | null;

  @Column({ name: 'use_time', type: 'datetime', precision: 3, nullable: true })
  useTime: Date | null;

  @Column({ name: 'refund_time', type: 'datetime', precision: 3, nullable: true })
  refundTime: Date | null;

  @Column({ name: 'cancel_reason', type: 'varchar', length: 16, nullable: true })
  cancelReason: CancelReason | null;

  @Column({ name: 'cancel_time', type: 'datetime', precision: 3, nullable: true })
  cancelTime: Date | null;

  @UpdateDateColumn({ name: 'update_time', type: 'datetime', precision: 3 })
  updateTime: Date;
}
