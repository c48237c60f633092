import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

interface OwnerFrame {
  ownerId: string;
}

/**
 * Lock owner identity for async code. Node has no threads, so the owner is `instanceId` plus an id
 * for the async call chain, carried by AsyncLocalStorage: everything awaited inside one
 * `run()` frame (nested acquisitions included) is the same owner; two concurrent requests are not.
 */
export class LockOwners {
  private readonly storage = new AsyncLocalStorage<OwnerFrame>();
  /** This process (instance id plus a nonce, so a restarted process with a reused INSTANCE_ID differs). */
  readonly processId: string;
  private counter = 0;

  constructor(instanceId: string) {
    this.processId = `${instanceId}:${randomBytes(4).toString('hex')}`;
  }

  /** A fresh owner id; always contains ':' (the Lua scripts rely on it). */
  newOwnerId(): string {
    return `${this.processId}:${++this.counter}`;
  }

  /** The owner of the current async call chain, if a frame is active. */
  current(): string | undefined {
    return this.storage.getStore()?.ownerId;
  }

  /** Runs `fn` in the current owner frame, or in a new one when none is active. */
  run<T>(fn: () => T): T {
    return this.storage.getStore() ? fn() : this.storage.run({ ownerId: this.newOwnerId() }, fn);
  }
}
