import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../../config/app-config';
import { RateLimitPolicy } from '../../rate-limit/rate-limit.policy';
import type { SaleRequest } from '../../voucher/sale-request';
import { OrderStreamMetrics } from './order-stream.metrics';
import type { Admission } from '../../voucher/admission';
import { OrderStreamStore } from './order-stream.store';

/** One request's outcome: its admission and, if rate limited, when to retry. */
export interface AdmissionOutcome {
  admission: Admission;
  retryAfterMs: number;
  /** The sale's end (ms, Redis' clock; 0 if it has no state). */
  endMs: number;
}

interface Queued {
  userId: string;
  orderId: string;
  buckets?: readonly [string, string];
  resolve: (outcome: AdmissionOutcome) => void;
  reject: (error: unknown) => void;
}

/** Captured at start-up: the flush timer and its Redis call never run inside one request's context. */
const inStartupContext: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();

/**
 * Coalesces the admissions that arrive in one event-loop turn (the requests whose sockets were
 * readable together) into one admission script call per voucher, sent in the turn's check phase.
 * Under load one round trip then decides many requests: in Node a Redis round trip costs more CPU
 * than the script itself costs Redis. Unloaded, a request waits for no one (the flush follows the
 * poll phase that read it). Requests are decided in arrival order, each with its own outcome; if the
 * call fails, every request in it fails with that error.
 */
@Injectable()
export class AdmissionBatcher {
  private readonly queues = new Map<string, Queued[]>();
  private scheduled = false;

  constructor(
    @Inject(appConfig.KEY) private readonly config: AppConfig,
    private readonly stream: OrderStreamStore,
    private readonly metrics: OrderStreamMetrics,
    private readonly rateLimits: RateLimitPolicy,
  ) {}

  admit(options: SaleRequest & { orderId: string }): Promise<AdmissionOutcome> {
    return new Promise((resolve, reject) => {
      const { voucherId } = options;
      let queue = this.queues.get(voucherId);
      if (!queue) {
        queue = [];
        this.queues.set(voucherId, queue);
      }
      const buckets = this.rateLimits.forRequest(options)?.keys;
      queue.push({ userId: options.userId, orderId: options.orderId, buckets, resolve, reject });
      if (queue.length >= this.config.ORDER_ADMISSION_BATCH_MAX) {
        this.queues.delete(voucherId);
        const full = queue;
        inStartupContext(() => this.send(voucherId, full));
      } else if (!this.scheduled) {
        this.scheduled = true;
        inStartupContext(() => setImmediate(this.flush));
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    for (const [voucherId, queue] of this.queues) {
      this.send(voucherId, queue);
    }
    this.queues.clear();
  };

  private send(voucherId: string, queue: Queued[]): void {
    this.metrics.admissionBatchSize.observe(queue.length);
    const rates = this.rateLimits.enabled ? this.rateLimits.rates : undefined;
    this.stream.admitBatch({ voucherId, maxBacklog: this.config.ORDER_MAX_BACKLOG, requests: queue, rates }).then(
      ({ admissions, endMs }) => {
        for (let i = 0; i < queue.length; i++) {
          queue[i].resolve({ ...admissions[i], endMs });
        }
      },
      (error: unknown) => {
        for (const queued of queue) {
          queued.reject(error);
        }
      },
    );
  }
}
