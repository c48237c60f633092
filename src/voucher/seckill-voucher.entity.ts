import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** `tb_seckill_voucher`: stock and sale window of a seckill voucher (1:1 with `tb_voucher`). */
@Entity('tb_seckill_voucher')
export class SeckillVoucher {
  @PrimaryColumn({ name: 'voucher_id', type: 'bigint', unsigned: true })
  voucherId: string;

  @Column({ type: 'int' })
  stock: number;

  @Column({ name: 'begin_time', type: 'datetime', precision: 3 })
  beginTime: Date;

  @Column({ name: 'end_time', type: 'datetime', precision: 3 })
  endTime: Date;

  @CreateDateColumn({ name: 'create_time', type: 'datetime', precision: 3 })
  createTime: Date;

  @UpdateDateColumn({ name: 'update_time', type: 'datetime', precision: 3 })
  updateTime: Date;
}
