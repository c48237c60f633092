import { EventEmitter } from 'node:events';
import type { LockEvents } from './lock-engine-options';
import { inNeutralContext } from './neutral-context';

/** The events of a LockService: listeners contained, events emitted outside any caller's async context. */
export class LockEventEmitter extends EventEmitter<LockEvents> {
  constructor(private readonly logger?: { warn(message: string): void }) {
    super();
  }

  /**
   * Adds `listener` for `event`; returns the function that removes it. A listener that throws (or
   * rejects) is reported and contained: it never changes a lock's state, rejects a caller or leaves
   * a lock name's local queue occupied.
   */
  subscribe<E extends keyof LockEvents>(event: E, listener: (...payload: LockEvents[E]) => void): () => void {
    const report = (error: unknown) => this.logger?.warn(`${event} listener failed: ${String(error)}`);
    const contained = (...payload: LockEvents[E]) => {
      try {
        const result = listener(...payload) as unknown;
        if (result instanceof Promise) {
          result.catch(report);
        }
      } catch (error) {
        report(error);
      }
    };
    this.on(event, contained as never);
    return () => this.off(event, contained as never);
  }

  /** Emits `event` in a neutral async context (a listener must not run as the caller's lock owner). */
  emitNeutral<E extends keyof LockEvents>(event: E, payload: LockEvents[E][0]): void {
    inNeutralContext(() => (this.emit as (e: E, p: LockEvents[E][0]) => boolean)(event, payload));
  }
}
