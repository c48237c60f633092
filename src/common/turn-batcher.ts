import { AsyncLocalStorage } from 'node:async_hooks';

interface Queued<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** Captured at start-up: the flush and its call never run inside one request's async context. */
const inStartupContext: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();

/**
 * Coalesces the calls that arrive in one event-loop turn (the requests whose sockets were readable
 * together) into one `send` per key, made in the turn's check phase, or at once when a key's batch
 * is full. Under load one round trip then decides many requests: in Node a Redis round trip costs
 * more CPU than the script itself costs Redis. Unloaded, a call waits for no one (the flush follows
 * the poll phase that read it). `send` answers the items in order, one outcome each; if it fails,
 * every item of its batch fails with that error.
 */
export class TurnBatcher<Item, Outcome> {
  private readonly queues = new Map<string, Queued<Item, Outcome>[]>();
  private scheduled = false;

  constructor(
    private readonly options: {
      /** Items per `send` at most (1: one call per item). */
      maxBatch: number;
      send: (key: string, items: Item[]) => Promise<Outcome[]>;
    },
  ) {}

  add(key: string, item: Item): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(key);
      if (!queue) {
        queue = [];
        this.queues.set(key, queue);
      }
      queue.push({ item, resolve, reject });
      if (queue.length >= this.options.maxBatch) {
        this.queues.delete(key);
        const full = queue;
        inStartupContext(() => this.send(key, full));
      } else if (!this.scheduled) {
        this.scheduled = true;
        inStartupContext(() => setImmediate(this.flush));
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    for (const [key, queue] of this.queues) {
      this.send(key, queue);
    }
    this.queues.clear();
  };

  private send(key: string, queue: Queued<Item, Outcome>[]): void {
    this.options
      .send(
        key,
        queue.map((queued) => queued.item),
      )
      .then(
        (outcomes) => {
          for (let i = 0; i < queue.length; i++) {
            queue[i].resolve(outcomes[i]);
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
