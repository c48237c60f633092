import { MigrationInterface, QueryRunner } from 'typeorm';

/** Vouchers, seckill vouchers and orders, as in the seed's schema; money in integer cents. */
export class CreateVoucherTables1763800000000 implements MigrationInterface {
  name = 'CreateVoucherTables1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tb_voucher (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        shop_id BIGINT UNSIGNED NOT NULL,
        title VARCHAR(255) NOT NULL,
        sub_title VARCHAR(255) NULL,
        rules VARCHAR(1024) NULL,
        pay_value BIGINT UNSIGNED NOT NULL COMMENT 'cents',
        actual_value BIGINT UNSIGNED NOT NULL COMMENT 'cents',
        type TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT '0 normal, 1 seckill',
        status TINYINT UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 on sale, 2 withdrawn, 3 expired',
        create_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        update_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_voucher_shop (shop_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    await queryRunner.query(`
      CREATE TABLE tb_seckill_voucher (
        voucher_id BIGINT UNSIGNED NOT NULL,
        stock INT NOT NULL,
        begin_time DATETIME(3) NOT NULL,
        end_time DATETIME(3) NOT NULL,
        create_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        update_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (voucher_id),
        CONSTRAINT fk_seckill_voucher FOREIGN KEY (voucher_id) REFERENCES tb_voucher (id),
        CONSTRAINT chk_seckill_stock CHECK (stock >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    await queryRunner.query(`
      CREATE TABLE tb_voucher_order (
        id BIGINT UNSIGNED NOT NULL COMMENT 'IdWorker id, above 2^53',
        user_id BIGINT UNSIGNED NOT NULL,
        voucher_id BIGINT UNSIGNED NOT NULL,
        pay_type TINYINT UNSIGNED NOT NULL DEFAULT 1,
        status TINYINT UNSIGNED NOT NULL DEFAULT 1 COMMENT '1 unpaid, 2 paid, 3 used, 4 cancelled, 5 refunding, 6 refunded',
        create_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        pay_time DATETIME(3) NULL,
        use_time DATETIME(3) NULL,
        refund_time DATETIME(3) NULL,
        update_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uk_order_user_voucher (user_id, voucher_id),
        KEY idx_order_voucher (voucher_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE tb_voucher_order');
    await queryRunner.query('DROP TABLE tb_seckill_voucher');
    await queryRunner.query('DROP TABLE tb_voucher');
  }
}
