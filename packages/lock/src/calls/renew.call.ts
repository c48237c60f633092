import { lockScripts } from '../lock-scripts';
import type { LockRedisClient } from '../redis-client';

/** A lease renewal of `owner`'s hold. */
export interface RenewRequest {
  lockKey: string;
  owner: string;
  leaseMs: number;
}

/** Runs renew.lua: true if the owner still held the lock (its lease is extended), false if not. */
export async function renew(
  client: LockRedisClient,
  request: RenewRequest,
  mapError: (error: unknown) => Error,
): Promise<boolean> {
  return (
    (await lockScripts.renew.run<number>(client, [request.lockKey], [request.owner, request.leaseMs], mapError)) === 1
  );
}

/** Many renewals in one round trip; per-request failures come back as errors, not thrown. */
export async function renewMany(client: LockRedisClient, requests: RenewRequest[]): Promise<(boolean | Error)[]> {
  const results = await lockScripts.renew.runPipeline<number>(
    client,
    requests.map((request) => ({ keys: [request.lockKey], args: [request.owner, request.leaseMs] })),
  );
  return results.map((result) => (result instanceof Error ? result : result === 1));
}

/**
 * A replica check of a new hold in one round trip on the lock's connection (on a Cluster the
 * pipeline goes to the lock's master): renew.lua, then `WAIT replicas timeoutMs`. WAIT counts the
 * writes of the connection it runs on; the renewal is such a write, after the grant (the
 * replication stream is one ordered log), whichever connection wrote the grant — another process's
 * release, or this connection before a reconnect (a bare WAIT on a fresh connection would confirm
 * at once). Reports whether `owner` still holds the lock and how many replicas confirmed.
 */
export async function confirmOnReplicas(
  client: LockRedisClient,
  request: RenewRequest,
  sync: { replicas: number; timeoutMs: number },
): Promise<{ held: boolean; acknowledged: number }> {
  const script = lockScripts.renew;
  const send = async (byEval: boolean) => {
    const pipeline = client.pipeline();
    if (!pipeline.wait || !pipeline.eval) {
      throw new TypeError('replicaSync needs a client whose pipeline has eval and wait (ioredis)');
    }
    const args = [request.lockKey, request.owner, request.leaseMs];
    if (byEval) {
      pipeline.eval(script.source, 1, ...args);
    } else {
      pipeline.evalsha(script.sha, 1, ...args);
    }
    pipeline.wait(sync.replicas, sync.timeoutMs);
    return (await pipeline.exec()) ?? [];
  };
  let replies = await send(false);
  const noScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');
  if (noScript(replies[0]?.[0])) {
    replies = await send(true);
  }
  const [[renewError, renewed], [waitError, acknowledged]] = replies;
  const failed = renewError ?? waitError;
  if (failed) {
    throw failed;
  }
  return { held: renewed === 1, acknowledged: Number(acknowledged) };
}
