import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appConfig, type AppConfig } from '../config/app-config';
import type { MySqlTableLockBackend } from '@seckill/lock/mysql';
import { LOCK_TABLE_BACKEND } from './lock-table.tokens';

/** Rows expired for less than this are left alone (the next acquirer takes them over anyway). */
const GRACE_MS = 1000;

/**
 * Deletes the rows of lock holders that died (their lease ran out and nobody took the lock since),
 * every LOCK_TABLE_SWEEP_INTERVAL_MS in every replica: each sweep is one idempotent `DELETE … LIMIT`,
 * so replicas need no coordination. It only keeps the table small; correctness never waits for it.
 */
@Injectable()
export class LockTableSweeper implements OnApplicationBootstrap {
  private readonly logger = new Logger(LockTableSweeper.name);

  constructor(
    @Inject(LOCK_TABLE_BACKEND) private readonly backend: MySqlTableLockBackend | null,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  /** Registered with the scheduler, which clears it on shutdown. */
  onApplicationBootstrap(): void {
    if (!this.backend) {
      return;
    }
    const timer = setInterval(() => void this.sweep(), this.config.LOCK_TABLE_SWEEP_INTERVAL_MS);
    this.scheduler.addInterval('lock-table-sweep', timer);
  }

  /** One sweep; returns the rows deleted (0 on a MySQL error, which is logged). */
  async sweep(): Promise<number> {
    if (!this.backend) {
      return 0;
    }
    try {
      const swept = await this.backend.sweepExpired({ graceMs: GRACE_MS });
      if (swept > 0) {
        this.logger.log(`Swept ${swept} expired lock row(s)`);
      }
      return swept;
    } catch (error) {
      this.logger.warn(`Lock table sweep failed: ${String(error)}`);
      return 0;
    }
  }
}
