import { LockPubSub } from './lock-pubsub';
import type { LockRedisClient, LockRedisSubscriber } from './redis-client';
import { inNeutralContext } from './neutral-context';

/**
 * The release notifications of every node (`LockPubSub`), created on first wait: node 0 listens on
 * the subscriber connection the service was given; other nodes on a duplicate of their connection,
 * which is this class's to close.
 */
export class LockSubscribers {
  private readonly pubsubs = new Map<number, LockPubSub>();
  private readonly owned: LockRedisSubscriber[] = [];

  constructor(
    private readonly options: {
      subscriber?: LockRedisSubscriber;
      node(index: number): LockRedisClient;
      sharded: boolean;
      logger?: { warn(message: string): void };
    },
  ) {}

  of(node: number): LockPubSub {
    let pubsub = this.pubsubs.get(node);
    if (!pubsub) {
      pubsub = new LockPubSub(this.options.subscriber && node === 0 ? this.options.subscriber : this.duplicate(node), {
        sharded: this.options.sharded,
      });
      this.pubsubs.set(node, pubsub);
    }
    return pubsub;
  }

  /** Shutdown: every waiter wakes (and finds the service closed); the duplicates disconnect. */
  close(): void {
    for (const pubsub of this.pubsubs.values()) {
      pubsub.wakeAll();
    }
    for (const subscriber of this.owned) {
      subscriber.disconnect();
    }
  }

  private duplicate(node: number): LockRedisSubscriber {
    // Its socket's events must not run in the frame of the waiter that happened to need it first.
    const subscriber = inNeutralContext(() => this.options.node(node).duplicate());
    // Its own connection errors (it reconnects by itself): reported, at most once in 10 s, not
    // left to ioredis' unhandled-error output.
    let reportedAt = Number.NEGATIVE_INFINITY;
    subscriber.on('error', (error) => {
      if (performance.now() - reportedAt >= 10_000) {
        reportedAt = performance.now();
        this.options.logger?.warn(`Lock subscriber of node ${node}: ${error.message}`);
      }
    });
    this.owned.push(subscriber);
    return subscriber;
  }
}
