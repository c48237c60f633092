import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum VoucherType {
  Normal = 0,
  Seckill = 1,
}

/** `tb_voucher`: what a voucher is worth and its rules. Money in integer cents; ids as decimal strings. */
@Entity('tb_voucher')
export class Voucher {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: string;

  @Column({ name: 'shop_id', type: 'bigint', unsigned: true })
  shopId: string;

  @Column({ type: 'varchar', length: 255 })
  title: string;

  @Column({ name: 'sub_title', type: 'varchar', length: 255, nullable: true })
  subTitle: string | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  rules: string | null;

  @Column({ name: 'pay_value', type: 'bigint', unsigned: true })
  payValue: string;

  @Column({ name: 'actual_value', type: 'bigint', unsigned: true })
  actualValue: string;

  @Column({ type: 'tinyint', unsigned: true, default: VoucherType.Normal })
  type: VoucherType;

  @Column({ type: 'tinyint', unsigned: true, default: 1 })
  status: number;

  @CreateDateColumn({ name: 'create_time', type: 'datetime', precision: 3 })
  createTime: Date;

  @UpdateDateColumn({ name: 'update_time', type: 'datetime', precision: 3 })
  updateTime: Date;
}
