/** How the scripts tell waiters: classic pub/sub, or sharded pub/sub (Redis 7, `shardedPubSub`). */
export type PublishCommand = 'publish' | 'spublish';
