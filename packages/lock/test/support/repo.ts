/**
 * THE ONE PATH FROM THE PACKAGE'S TESTS INTO THE REPOSITORY. The servers these tests need — isolated
 * redis-server, MariaDB, ZooKeeper, Redis Cluster on free ports, with pid records so leftovers are
 * reaped — come from the repository's launcher (scripts/stack) and its jest support (test/support),
 * the IPC client that drives a worker process (ChildWorker), and the seed's lock (the baseline
 * the benchmarks compare with) from bench/. Everything the tests
 * take from outside the package is re-exported here and nowhere else, so making the package's tests
 * travel on their own means replacing this one file. The published package ships none of it.
 */
import { join } from 'node:path';

/** The repository's root (its node_modules holds the peers the child processes load). */
export const REPO_ROOT = join(__dirname, '..', '..', '..', '..');

export { createTestDatabase, startTestRedis, startTestZooKeeper, testDir } from '../../../../test/support/shared-stack';
export { ChildWorker } from '../../../../test/support/child-worker-client';
export type { RedisServer } from '../../../../scripts/stack/redis';
export { RedisCluster } from '../../../../scripts/stack/redis-cluster';
export type { ZooKeeperServer } from '../../../../scripts/stack/zookeeper';
export { freePort } from '../../../../scripts/stack/ports';
export { SimpleLock, simpleReleaseScript } from '../../../../bench/baselines/simple-lock';
