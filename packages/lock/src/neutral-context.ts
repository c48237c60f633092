import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Runs `fn` in the async context captured when this module was loaded — at start-up, outside any
 * request — so that every AsyncLocalStorage (this library's owner store, nestjs-cls, any other) is
 * as it was then: empty. The library's timers, duplicated connections and emitted events are created
 * through it; otherwise a watchdog started inside owner A's call would run every later tick — lock-lost
 * signals, listeners, other owners' abort handlers — as A.
 */
export const inNeutralContext: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();
