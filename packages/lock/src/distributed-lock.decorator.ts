import { Inject, Logger, Optional } from '@nestjs/common';
import { compileKeyTemplate, parameterNames } from './lock-key-template';
import { LockInsideTransactionError, LockLostError, LockUnavailableError } from './lock.errors';
import type { LockExecutor, WithLockOptions } from './lock.service';
import { LOCK_EXECUTOR, LOCK_TRANSACTION_BRIDGE, type LockTransactionBridge } from './lock.tokens';

/** Options of `@DistributedLock`. */
export interface DistributedLockOptions extends WithLockOptions {
  /**
   * Open a transaction inside the lock (default true when the app registered a transaction bridge):
   * lock → BEGIN → method (an inner `@Transactional()` joins it) → check the lock is still held →
   * COMMIT → unlock. A lock lost before commit rolls the transaction back. Set false for methods
   * that do not touch the database.
   */
  transaction?: boolean;
  /**
   * How the lock is checked right before commit (see `LockContext.assertHeld`): `redis` (default)
   * asks Redis — one round trip inside the transaction; `lease` trusts a fresh lease, so a hot row
   * locked by the transaction is not held across a Redis round trip.
   */
  verifyBeforeCommit?: 'redis' | 'lease';
  /**
   * Pass the lock's `LockContext` to the method as an extra last argument. For a method whose write
   * commits elsewhere (a group commit shared with other holders, with `transaction: false`): it calls
   * `context.assertHeld()` right before that commit itself. The lock is still released only after the
   * method returns.
   */
  withContext?: boolean;
}

const logger = new Logger('DistributedLock');
const EXECUTOR = '__distributedLockExecutor';
const BRIDGE = '__distributedLockTransactionBridge';

interface Injected {
  [EXECUTOR]?: LockExecutor;
  [BRIDGE]?: LockTransactionBridge;
}

/**
 * Runs the method under a distributed lock named by `template`, filled from the arguments:
 * `@DistributedLock('order:{userId}')`, `{dto.userId}` (property path), `{0}` (argument index).
 * The lock is released only after the method's transaction committed or rolled back; entering it
 * while a transaction is already open throws `LockInsideTransactionError`.
 */
export function DistributedLock(template: string, options: DistributedLockOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor: PropertyDescriptor) => {
    Inject(LOCK_EXECUTOR)(target, EXECUTOR);
    Optional()(target, BRIDGE);
    Inject(LOCK_TRANSACTION_BRIDGE)(target, BRIDGE);
    const original = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    const keyOf = compileKeyTemplate(template, parameterNames(original));
    const { transaction, verifyBeforeCommit, withContext, ...lockOptions } = options;
    const wrapped = async function (this: Injected, ...args: unknown[]): Promise<unknown> {
      const executor = this[EXECUTOR];
      if (!executor) {
        throw new Error(`@DistributedLock on ${String(propertyKey)}: LockModule is not imported`);
      }
      const bridge = this[BRIDGE];
      const name = keyOf(args);
      if (bridge?.isActive()) {
        throw new LockInsideTransactionError(
          `${String(propertyKey)} takes lock ${name} inside an open transaction; the lock would be released ` +
            'before that transaction commits. Take the lock outside it (@DistributedLock opens its own transaction).',
          name,
        );
      }
      let committed: { result: unknown } | undefined;
      try {
        return await executor.withLock(name, lockOptions, async (context) => {
          if (!bridge || transaction === false) {
            const result = await original.apply(this, withContext ? [...args, context] : args);
            if (withContext) {
              // The method committed its own write (checked the lock itself): its outcome stands.
              committed = { result };
            }
            return result;
          }
          const result = await bridge.run(async () => {
            const value = await original.apply(this, args);
            // Commit only while the lock is provably ours; otherwise the transaction rolls back.
            await context.assertHeld(verifyBeforeCommit);
            return value;
          });
          committed = { result };
          return result;
        });
      } catch (error) {
        if (committed && (error instanceof LockLostError || error instanceof LockUnavailableError)) {
          // The transaction already committed: its outcome stands. Failing the call now would tell
          // the caller it did not happen. The lock itself ends with its lease.
          logger.warn(`Lock ${name} could not be released cleanly after commit: ${error.message}`);
          return committed.result;
        }
        throw error;
      }
    };
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped;
    return descriptor;
  };
}
