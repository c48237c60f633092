/**
 * A separate process that uses the IdWorker, driven over IPC by integration tests (`ChildWorker`).
 * Commands arrive as messages; results go back as messages. (The lock package's tests have their
 * own worker: packages/lock/test/support/lock-worker.ts.)
 */
import { Redis } from 'ioredis';
import { IdWorker } from '../../src/id-worker/id-worker.service';

export type WorkerCommand = { type: 'ids'; redisUrl: string; tasks: number; idsPerTask: number };

export interface IdsResult {
  type: 'ids';
  /** Decimal strings, in the order the ids were handed out in this process. */
  inCompletionOrder: string[];
  /** Each task's ids, in the order it received them. */
  perTask: string[][];
}

async function generateIds(command: WorkerCommand): Promise<IdsResult> {
  const redis = new Redis(command.redisUrl);
  const worker = new IdWorker(redis, () => Date.now());
  const inCompletionOrder: string[] = [];
  const perTask = await Promise.all(
    Array.from({ length: command.tasks }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < command.idsPerTask; i++) {
        const id = (await worker.nextId('order')).toString();
        inCompletionOrder.push(id);
        ids.push(id);
      }
      return ids;
    }),
  );
  redis.disconnect();
  return { type: 'ids', inCompletionOrder, perTask };
}

process.on('message', (command: WorkerCommand) => {
  void (async () => {
    try {
      if (command.type === 'ids') {
        process.send!(await generateIds(command));
      }
    } catch (error) {
      process.send!({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});

process.send!({ type: 'ready' });
