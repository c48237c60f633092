import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lock library's lock table (LOCK_BACKEND=mysql-table): one row per held lock, expiry by the
 * database clock, fencing counter. Frozen here as the backend's `ensureTable()` creates it today.
 */
export class CreateLockTable1764900000000 implements MigrationInterface {
  name = 'CreateLockTable1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE distributed_lock (
        name VARCHAR(191) NOT NULL,
        owner VARCHAR(191) NOT NULL,
        holds INT UNSIGNED NOT NULL,
        expires_at_ms BIGINT UNSIGNED NOT NULL,
        fence BIGINT UNSIGNED NOT NULL,
        PRIMARY KEY (name),
        KEY idx_expires (expires_at_ms)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE distributed_lock');
  }
}
