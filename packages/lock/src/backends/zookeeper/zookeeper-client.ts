/** A ZooKeeper error as node-zookeeper-client reports it (`code` is ZooKeeper's, e.g. -101 no node). */
export interface ZooKeeperError {
  code?: number;
  name?: string;
  message?: string;
}

/** A request ZooKeeper answered with an error; `code` is ZooKeeper's. */
export class ZooKeeperRequestError extends Error {
  override readonly name = ZooKeeperRequestError.name;
  readonly code?: number;

  constructor(cause: ZooKeeperError) {
    super(`ZooKeeper: ${cause.message ?? cause.name ?? 'error'} (${String(cause.code)})`, { cause });
    this.code = cause.code;
  }
}

/** The part of a znode's Stat the locks read: the creating transaction's id, 8 bytes big-endian. */
export interface ZooKeeperStat {
  czxid: Buffer;
}

/** A watch event (only its firing matters here). */
export interface ZooKeeperEvent {
  getType(): number;
}

type Done<T> = (error: ZooKeeperError | null | undefined, result: T) => void;

/**
 * What the ZooKeeper backend needs of a client, typed structurally: node-zookeeper-client's
 * `Client` (from `createClient(connectionString, { sessionTimeout })`) fits as it is; the library
 * imports no driver.
 */
export interface ZooKeeperLockClient {
  connect(): void;
  close(): void;
  getSessionTimeout(): number;
  on(event: 'connected' | 'disconnected' | 'expired', listener: () => void): unknown;
  removeListener(event: 'connected' | 'disconnected' | 'expired', listener: () => void): unknown;
  create(path: string, data: Buffer, mode: number, callback: Done<string>): void;
  mkdirp(path: string, callback: Done<string>): void;
  getChildren(path: string, callback: Done<string[]>): void;
  exists(path: string, callback: Done<ZooKeeperStat | null>): void;
  exists(path: string, watcher: (event: ZooKeeperEvent) => void, callback: Done<ZooKeeperStat | null>): void;
  remove(path: string, version: number, callback: (error: ZooKeeperError | null | undefined) => void): void;
}

/** ZooKeeper's codes and modes the recipe uses (protocol constants). */
export const ZK = {
  EPHEMERAL_SEQUENTIAL: 3,
  NO_NODE: -101,
  NODE_EXISTS: -110,
} as const;
