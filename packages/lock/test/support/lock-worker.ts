/**
 * A separate process that uses the lock library (its sources), driven over IPC by the package's tests
 * through the repository's `ChildWorker` (startLockWorker). Commands arrive as messages; results go
 * back as messages.
 */
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import {
  assertFencedWrite,
  fencedUpdate,
  LocalLockService,
  LockService,
  type LockExecutor,
  type LockHandle,
} from '../../src';

export type LockWorkerCommand =
  | {
      type: 'contend';
      redisUrl: string;
      name: string;
      contenders: number;
      iterations: number;
      criticalSectionMs: number;
      mode: 'redis' | 'local';
      /** The LockService's `localBurst` (default: the library's). */
      localBurst?: number;
    }
  | {
      type: 'hold';
      redisUrl: string;
      name: string;
      leaseTime?: number;
      watchdogTimeoutMs?: number;
      /** Take `getFairLock(name)` instead of `getLock(name)`. */
      fair?: boolean;
      /** Release after this long (default: hold until killed). */
      holdMs?: number;
    }
  | {
      /**
       * `owners` owners of this process queue for `name` at once; each holds it `holdMs` (handed on
       * locally), except the last, which reports every token (`chained`) and holds until killed.
       */
      type: 'chain';
      redisUrl: string;
      name: string;
      owners: number;
      holdMs: number;
      watchdogTimeoutMs?: number;
    }
  | { type: 'fenced-write'; mysqlUrl: string; table: string; id: number; value: string };

export interface ContendResult {
  type: 'contended';
  overlaps: number;
  sections: number;
  waitsMs: number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let held: LockHandle | undefined;

async function contend(command: Extract<LockWorkerCommand, { type: 'contend' }>): Promise<ContendResult> {
  const redis = new Redis(command.redisUrl);
  const probe = new Redis(command.redisUrl);
  const service = new LockService({
    instanceId: `worker-${process.pid}`,
    nodes: [redis],
    subscriber: new Redis(command.redisUrl),
    localBurst: command.localBurst,
  });
  const executor: LockExecutor = command.mode === 'local' ? new LocalLockService() : service;
  let overlaps = 0;
  let sections = 0;
  const waitsMs: number[] = [];
  await Promise.all(
    Array.from({ length: command.contenders }, async () => {
      for (let i = 0; i < command.iterations; i++) {
        const requestedAt = performance.now();
        await executor.withLock(command.name, {}, async () => {
          waitsMs.push(performance.now() - requestedAt);
          // The counter lives in Redis so sections of every process are counted together.
          if ((await probe.incr(`cs-inside:${command.name}`)) !== 1) {
            overlaps++;
          }
          await sleep(command.criticalSectionMs);
          await probe.decr(`cs-inside:${command.name}`);
          sections++;
        });
      }
    }),
  );
  service.close();
  return { type: 'contended', overlaps, sections, waitsMs };
}

process.on('message', (command: LockWorkerCommand) => {
  void (async () => {
    try {
      if (command.type === 'contend') {
        process.send!(await contend(command));
      } else if (command.type === 'hold') {
        const service = new LockService({
          instanceId: `holder-${process.pid}`,
          nodes: [new Redis(command.redisUrl)],
          watchdogTimeoutMs: command.watchdogTimeoutMs,
        });
        const lock = command.fair ? service.getFairLock(command.name) : service.getLock(command.name);
        held = await lock.lock({ leaseTime: command.leaseTime });
        process.send!({ type: 'held', token: held.fencingToken });
        if (command.holdMs !== undefined) {
          await sleep(command.holdMs);
          await held.unlock();
        }
      } else if (command.type === 'chain') {
        const service = new LockService({
          instanceId: `chain-${process.pid}`,
          nodes: [new Redis(command.redisUrl)],
          watchdogTimeoutMs: command.watchdogTimeoutMs,
        });
        const tokens: number[] = [];
        await Promise.all(
          Array.from({ length: command.owners }, async () => {
            const handle = await service.getLock(command.name).lock();
            tokens.push(handle.fencingToken);
            if (tokens.length === command.owners) {
              held = handle;
              process.send!({ type: 'chained', tokens });
              return;
            }
            await sleep(command.holdMs);
            await handle.unlock();
          }),
        );
      } else if (command.type === 'fenced-write') {
        const conn = await createConnection(command.mysqlUrl);
        const update = fencedUpdate({
          table: command.table,
          key: { column: 'id', value: command.id },
          set: { value: command.value },
          token: held!.fencingToken,
        });
        const [result] = await conn.execute(update.sql, update.params as (string | number)[]);
        await conn.end();
        try {
          assertFencedWrite((result as { affectedRows: number }).affectedRows, update as never);
          process.send!({ type: 'written' });
        } catch (error) {
          process.send!({ type: 'refused', error: (error as Error).name });
        }
      }
    } catch (error) {
      process.send!({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});

process.send!({ type: 'ready' });
