/**
 * The lock library's ZooKeeper entry: the backend and the structural client shape it needs (an
 * adapter away from any client; node-zookeeper-client fits as it is).
 */
export { ZooKeeperLockBackend, type ZooKeeperLockOptions } from './backends/zookeeper/zookeeper.backend';
export type {
  ZooKeeperLockClient,
  ZooKeeperStat,
  ZooKeeperEvent,
  ZooKeeperError,
} from './backends/zookeeper/zookeeper-client';
