import { Inject, Injectable } from '@nestjs/common';
import { masterOf, onNodeOf, type AppRedis } from '../../redis/redis-connections';
import { REDIS_CLIENT } from '../../redis/redis.tokens';
import { groupByVoucher } from '../group-by-voucher';
import type { StreamOrder } from './order-stream.entries';
import { ORDER_CONSUMER_GROUP, orderStreamKeys } from './order-stream.keys';

/**
 * ORDER_DURABILITY=replicas: whether Redis replicas have the order path's writes, by `WAIT` on the
 * connection that made them — an admission before it counts (`AdmissionDurability`), entries read or
 * claimed before they are persisted (`OrderStreamConsumer`, `OrderRecovery`).
 */
@Injectable()
export class ReplicaConfirmationStore {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: AppRedis) {}

  /**
   * WAIT for `replicas` replicas of the sale's master to have every write sent so far on the shared
   * connection (the admission's included); resolves how many confirmed within `timeoutMs`. WAIT
   * counts the writes of the connection it runs on, so on a Cluster it goes to the node that owns
   * the sale's slot.
   */
  async waitForReplicas(
    voucherId: string,
    options: { replicas: number; timeoutMs: number; connection?: AppRedis },
  ): Promise<number> {
    const [acknowledged] = await onNodeOf(
      options.connection ?? this.redis,
      orderStreamKeys(voucherId).state,
      (pipeline) => pipeline.wait(options.replicas, options.timeoutMs),
    );
    return acknowledged as number;
  }

  /**
   * ORDER_DURABILITY=replicas, before persisting entries read or claimed: which of them the sale's
   * current master holds in `consumer`'s pending list, and whether `replicas` replicas have them.
   * Both are asked on one connection, in one pipeline per master: `XCLAIM … JUSTID` of the entries to
   * the consumer — a write of this connection, after the entries' XADDs in the master's replication
   * stream — then `WAIT`. WAIT counts only the writes of the connection it runs on: after a reconnect
   * (a failover) the read that put the entries in the pending list was another connection's, and a
   * WAIT alone would return at once, proving nothing. An entry the claim does not return is not in
   * this master's pending list (lost in a failover, or settled by another consumer meanwhile): it
   * must not be persisted — a promoted replica that never had it may sell its unit again.
   */
  async confirmReplicated(
    orders: StreamOrder[],
    options: { consumer: string; replicas: number; timeoutMs: number; connection?: AppRedis },
  ): Promise<{ claimed: StreamOrder[]; replicated: boolean }> {
    const connection = options.connection ?? this.redis;
    const byVoucher = groupByVoucher(orders);
    // One WAIT per master (a WAIT holds up its node's connection until the replicas answer): on one
    // server all sales together; on a Cluster the sales of each master of the slot map together.
    const groups = connection.isCluster ? byMaster(connection, [...byVoucher.keys()]) : [[...byVoucher.keys()]];
    const claimedIds = new Set<string>();
    const acknowledged = await Promise.all(
      groups.map(async (voucherIds) => {
        const pipeline = connection.pipeline();
        for (const voucherId of voucherIds) {
          const ids = byVoucher.get(voucherId)!.map((order) => order.streamId);
          pipeline.xclaim(
            orderStreamKeys(voucherId).orders,
            ORDER_CONSUMER_GROUP,
            options.consumer,
            0,
            ...ids,
            'JUSTID',
          );
        }
        pipeline.wait(options.replicas, options.timeoutMs);
        const replies = (await pipeline.exec()) ?? [];
        replies.slice(0, -1).forEach(([error, ids]) => {
          // NOGROUP: the stream (or its group) is gone on this master, so none of its entries is claimable.
          if (error && !error.message.startsWith('NOGROUP')) {
            throw error;
          }
          for (const id of (ids as string[] | null) ?? []) {
            claimedIds.add(id);
          }
        });
        const [waitError, count] = replies[replies.length - 1] ?? [new Error('no WAIT reply')];
        if (waitError) {
          throw waitError;
        }
        return count as number;
      }),
    );
    return {
      claimed: orders.filter((order) => claimedIds.has(order.streamId)),
      replicated: acknowledged.every((count) => count >= options.replicas),
    };
  }
}

/** The vouchers grouped by their master in `connection`'s slot map (a voucher whose slot is unknown stands alone). */
function byMaster(connection: AppRedis, voucherIds: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const voucherId of voucherIds) {
    const master = masterOf(connection, orderStreamKeys(voucherId).state) ?? `voucher:${voucherId}`;
    groups.set(master, [...(groups.get(master) ?? []), voucherId]);
  }
  return [...groups.values()];
}
