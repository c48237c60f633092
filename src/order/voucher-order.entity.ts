import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';

export enum OrderStatus {
  Unpaid = 1,
  Paid = 2,
  Used = 3,
  Cancelled = 4,
  Refunding = 5,
  Refunded = 6,
}

/** `tb_voucher_order`. `id` comes from IdWorker (above 2^53: a decimal string here). */
@Entity('tb_voucher_order')
@Unique('uk_order_user_voucher', ['userId', 'voucherId'])
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

  @Column({ name: 'pay_time', type: 'datetime', precision: 3, nullable: true })
  payTime: Date | null;

  @Column({ name: 'use_time', type: 'datetime', precision: 3, nullable: true })
  useTime: Date | null;

  @Column({ name: 'refund_time', type: 'datetime', precision: 3, nullable: true })
  refundTime: Date | null;

  @UpdateDateColumn({ name: 'update_time', type: 'datetime', precision: 3 })
  updateTime: Date;
}
