import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The order lifecycle (pay, cancel, expiry, refund):
 * - `pay_deadline` (when an unpaid order lapses), `cancel_reason` (USER | EXPIRED), `cancel_time`;
 * - one *live* order per user and sale instead of one order ever: `live_user_id` is the buyer while
 *   the order holds its unit and NULL once it is cancelled or refunded, and the unique key moves onto
 *   it (NULLs never collide), so a buyer whose order lapsed may buy again;
 * - `tb_stock_return`, the outbox of units given back: one row per voucher and cancelling transaction
 *   (an expiry batch of thousands is one row), written in that transaction, so a replica that dies
 *   after COMMIT leaves the Redis half of the return to whoever relays it next;
 * - indexes for the expiry scan (status, pay_deadline) and the buyer's order list (user_id, id).
 * Existing unpaid orders (nothing could pay them before) get the default 15 minutes from the migration
 * on: none lapses the moment the release starts.
 */
export class OrderLifecycle1765200000000 implements MigrationInterface {
  name = 'OrderLifecycle1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE tb_voucher_order
        ADD COLUMN pay_deadline DATETIME(3) NULL AFTER create_time,
        ADD COLUMN cancel_reason VARCHAR(16) NULL AFTER refund_time,
        ADD COLUMN cancel_time DATETIME(3) NULL AFTER cancel_reason,
        ADD COLUMN live_user_id BIGINT UNSIGNED AS (IF(status IN (4, 6), NULL, user_id)) STORED`);
    await queryRunner.query(
      `UPDATE tb_voucher_order SET pay_deadline = GREATEST(create_time, NOW(3)) + INTERVAL 15 MINUTE
       WHERE status = 1 AND pay_deadline IS NULL`,
    );
    await queryRunner.query(`
      ALTER TABLE tb_voucher_order
        ADD UNIQUE KEY uk_order_live_user_voucher (live_user_id, voucher_id),
        DROP INDEX uk_order_user_voucher,
        ADD KEY idx_order_user (user_id, id),
        ADD KEY idx_order_expiry (status, pay_deadline)`);
    await queryRunner.query(`
      CREATE TABLE tb_stock_return (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        voucher_id BIGINT UNSIGNED NOT NULL,
        units MEDIUMTEXT NOT NULL COMMENT 'orderId:userId, comma-separated',
        create_time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_stock_return_voucher (voucher_id),
        KEY idx_stock_return_time (create_time)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE tb_stock_return');
    await queryRunner.query(`
      ALTER TABLE tb_voucher_order
        ADD UNIQUE KEY uk_order_user_voucher (user_id, voucher_id),
        DROP INDEX uk_order_live_user_voucher,
        DROP INDEX idx_order_user,
        DROP INDEX idx_order_expiry`);
    await queryRunner.query(`
      ALTER TABLE tb_voucher_order
        DROP COLUMN live_user_id, DROP COLUMN cancel_time, DROP COLUMN cancel_reason, DROP COLUMN pay_deadline`);
  }
}
