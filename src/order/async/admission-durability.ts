import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../../config/app-config';
import { DurabilityUnconfirmedError, RedisNotDurableError } from './async-order.errors';
import { RedisDurabilityCheck } from './redis-durability.check';
import { ReplicaConfirmationStore } from './replica-confirmation.store';

/**
 * What `ORDER_DURABILITY` asks of one admission: none while the last check found Redis would lose
 * accepted orders (`RedisDurabilityCheck`), and with `replicas` no 202 before enough replicas
 * confirmed the admission's writes (`WAIT`).
 */
@Injectable()
export class AdmissionDurability {
  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly check: RedisDurabilityCheck,
    private readonly replicas: ReplicaConfirmationStore,
  ) {}

  /** Before the admission: refuses it while Redis would not keep an accepted order through a crash. */
  assertDurable(): void {
    if (!this.check.ok) {
      throw new RedisNotDurableError('Redis would not keep this order through a crash; try again later');
    }
  }

  /** After an accepted admission, ORDER_DURABILITY=replicas: it counts only once enough replicas have it. */
  async confirm(voucherId: string): Promise<void> {
    if (this.config.ORDER_DURABILITY !== 'replicas') {
      return;
    }
    const acknowledged = await this.replicas.waitForReplicas(voucherId, {
      replicas: this.config.ORDER_DURABILITY_REPLICAS,
      timeoutMs: this.config.ORDER_DURABILITY_TIMEOUT_MS,
    });
    if (acknowledged < this.config.ORDER_DURABILITY_REPLICAS) {
      throw new DurabilityUnconfirmedError(
        `Only ${acknowledged} of ${this.config.ORDER_DURABILITY_REPLICAS} Redis replicas confirmed the order`,
      );
    }
  }
}
