import { parseGrant } from './calls/release.call';
import type { LockRedisSubscriber } from './redis-client';

interface Channel {
  refs: number;
  /** Bumped on every release message (and grant to an owner waiting here); a waiter compares it to see if it missed one. */
  version: number;
  listeners: Set<() => void>;
  subscribed: Promise<unknown>;
  /** Owners of this process waiting on this channel for a direct grant. */
  expecting: Set<string>;
  /** Direct grants that reached an expecting owner, until it takes them: owner → fencing token. */
  grants: Map<string, number>;
}

/**
 * Release notifications over one subscriber connection per Redis node, multiplexed over channels
 * and reference-counted: a waiter subscribes to its lock's channel and sleeps until a release
 * message (or its timeout), instead of polling.
 */
export class LockPubSub {
  private readonly channels = new Map<string, Channel>();

  private readonly sharded: boolean;

  constructor(
    private readonly subscriber: LockRedisSubscriber,
    options: { sharded?: boolean } = {},
  ) {
    this.sharded = options.sharded ?? false;
    if (this.sharded && (!subscriber.ssubscribe || !subscriber.sunsubscribe)) {
      throw new TypeError('shardedPubSub needs a subscriber with ssubscribe/sunsubscribe (ioredis 5, Redis 7)');
    }
    // Messages published while the connection was down are lost: after a (re)connect every waiter
    // retries at once instead of sleeping out its timer.
    subscriber.on('ready', () => this.wakeAll());
    // A Cluster's sharded subscribers come back one by one without a cluster-wide 'ready'.
    subscriber.on('subscribersReady', () => this.wakeAll());
    subscriber.on(this.sharded ? 'smessage' : 'message', (channel: string, message: string) => {
      const entry = this.channels.get(channel);
      if (!entry) {
        return;
      }
      const grant = parseGrant(message);
      if (grant) {
        if (!entry.expecting.has(grant.owner)) {
          // Another process's waiter got the lock: nothing changes for the waiters here (no herd).
          return;
        }
        entry.grants.set(grant.owner, grant.fencingToken);
      }
      entry.version++;
      for (const listener of [...entry.listeners]) {
        listener();
      }
    });
  }

  /** Subscribes (once per channel per process); resolves when Redis confirmed the subscription. */
  async acquire(channel: string): Promise<void> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = {
        refs: 0,
        version: 0,
        listeners: new Set(),
        subscribed: this.subscribeWhenReady(channel),
        expecting: new Set(),
        grants: new Map(),
      };
      this.channels.set(channel, entry);
    }
    entry.refs++;
    try {
      await entry.subscribed;
    } catch (error) {
      this.release(channel);
      throw error;
    }
  }

  /**
   * ioredis writes SUBSCRIBE at once while the connection is in its handshake ('connect': SUBSCRIBE
   * is allowed while loading); its reply switches the connection to subscriber mode, the ready
   * check's INFO is then refused, and ioredis drops and reconnects the connection — losing release
   * messages published meanwhile. So subscribe only once the connection is ready (or still queueing).
   */
  private async subscribeWhenReady(channel: string): Promise<unknown> {
    if (this.subscriber.status === 'connect') {
      // Also on 'close': then the SUBSCRIBE below waits in ioredis' offline queue like any command.
      await new Promise<void>((resolve) => {
        const done = () => {
          this.subscriber.off('ready', done);
          this.subscriber.off('close', done);
          resolve();
        };
        this.subscriber.once('ready', done);
        this.subscriber.once('close', done);
      });
    }
    return this.sharded ? this.subscriber.ssubscribe!(channel) : this.subscriber.subscribe(channel);
  }

  release(channel: string): void {
    const entry = this.channels.get(channel);
    if (!entry || --entry.refs > 0) {
      return;
    }
    this.channels.delete(channel);
    (this.sharded ? this.subscriber.sunsubscribe!(channel) : this.subscriber.unsubscribe(channel)).catch(
      () => undefined,
    );
  }

  /**
   * `owner` (subscribed to `channel`) waits for a direct grant: from now on one reaching this
   * process is kept for it (`takeGrant`) and wakes it. Undone by `unexpect`.
   */
  expect(channel: string, owner: string): void {
    const entry = this.channels.get(channel);
    entry?.expecting.add(owner);
    // A grant kept from an earlier wait of this owner is stale.
    entry?.grants.delete(owner);
  }

  unexpect(channel: string, owner: string): void {
    const entry = this.channels.get(channel);
    entry?.expecting.delete(owner);
    entry?.grants.delete(owner);
  }

  /** The fencing token of a direct grant to `owner` that arrived, if one did (taken once). */
  takeGrant(channel: string, owner: string): number | undefined {
    const entry = this.channels.get(channel);
    const token = entry?.grants.get(owner);
    if (token !== undefined) {
      entry!.grants.delete(owner);
    }
    return token;
  }

  /** Wakes every waiter at once (shutdown): each returns to its loop, which sees the closed service. */
  wakeAll(): void {
    for (const entry of this.channels.values()) {
      for (const listener of [...entry.listeners]) {
        listener();
      }
    }
  }

  version(channel: string): number {
    return this.channels.get(channel)?.version ?? 0;
  }

  /**
   * Waits until a release message newer than `sinceVersion` arrives, or `timeoutMs` passes.
   * Returns immediately if one already arrived since `sinceVersion`.
   */
  waitForRelease(channel: string, sinceVersion: number, timeoutMs: number): Promise<void> {
    const entry = this.channels.get(channel);
    if (!entry || entry.version !== sinceVersion || timeoutMs <= 0) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        entry.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      entry.listeners.add(done);
    });
  }
}
