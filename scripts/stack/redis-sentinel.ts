import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries';
import { ManagedProcess } from './managed-process';
import { freePort, probeTcp } from './ports';
import { RedisServer } from './redis';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The name the sentinels monitor the master under (`REDIS_SENTINEL_NAME`). */
export const SENTINEL_MASTER_NAME = 'seckill';

export interface RedisSentinelOptions {
  /** Replicas of the master (default 1). */
  replicas?: number;
  /** Sentinels (default 3; quorum is a majority). */
  sentinels?: number;
  /**
   * The port everyone (replicas, sentinels, clients) reaches the master at, given its own: e.g. a
   * proxy in front of it through which a test can hold back replication. Default: the master's own.
   */
  frontMaster?: (masterPort: number) => Promise<number>;
  /** AOF always on every server (what ORDER_MODE=async with ORDER_DURABILITY=aof requires). */
  durable?: boolean;
}

/**
 * A master, its replicas and Redis Sentinels (`redis-server <conf> --sentinel`, the same binary and
 * mode Debian's `redis-sentinel` package runs) on free ports, each in its own folder: the sentinels
 * fail the master over (to a replica) about 1 s after it stops answering. Ready once every sentinel
 * sees the others and every replica, and every replica's link is up.
 */
export class RedisSentinelGroup {
  private constructor(
    readonly master: RedisServer,
    /** Where the master is reached (its own port, or `frontMaster`'s). */
    readonly masterFrontPort: number,
    readonly replicas: RedisServer[],
    readonly sentinels: { port: number; process: ManagedProcess }[],
  ) {}

  static async start(dir: string, name = 'sentinel', options: RedisSentinelOptions = {}): Promise<RedisSentinelGroup> {
    const started: { stop(): Promise<void> }[] = [];
    try {
      const master = await RedisServer.start(join(dir, 'master'), `${name}-master`, { durable: options.durable });
      started.push(master);
      const front = options.frontMaster ? await options.frontMaster(master.port) : master.port;
      const replicas: RedisServer[] = [];
      for (let i = 0; i < (options.replicas ?? 1); i++) {
        const upstream = front;
        const replica = await RedisServer.start(join(dir, `replica-${i}`), `${name}-replica-${i}`, {
          durable: options.durable,
          replicaOf: upstream,
        });
        started.push(replica);
        replicas.push(replica);
      }
      const sentinels: { port: number; process: ManagedProcess }[] = [];
      for (let i = 0; i < (options.sentinels ?? 3); i++) {
        const sentinel = await startSentinel(join(dir, `sentinel-${i}`), `${name}-sentinel-${i}`, {
          masterPort: front,
          quorum: Math.floor((options.sentinels ?? 3) / 2) + 1,
        });
        started.push(sentinel.process);
        sentinels.push(sentinel);
      }
      const group = new RedisSentinelGroup(master, front, replicas, sentinels);
      await group.untilSettled(30_000);
      return group;
    } catch (error) {
      for (const server of started.reverse()) {
        await server.stop().catch(() => undefined);
      }
      throw error;
    }
  }

  /** Sentinel addresses, as ioredis' `sentinels` option takes them. */
  get nodes(): { host: string; port: number }[] {
    return this.sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port }));
  }

  /** Sentinel URLs, as REDIS_SENTINELS takes them. */
  get urls(): string[] {
    return this.sentinels.map((sentinel) => `redis://127.0.0.1:${sentinel.port}`);
  }

  /** The port of the master as the first answering sentinel reports it. */
  async masterPort(): Promise<number> {
    for (const sentinel of this.sentinels) {
      const reply = await probeTcp(sentinel.port, `SENTINEL get-master-addr-by-name ${SENTINEL_MASTER_NAME}\r\n`).catch(
        () => '',
      );
      const port = /\r\n(\d+)\r\n$/.exec(reply)?.[1];
      if (port) {
        return Number(port);
      }
    }
    throw new Error('no sentinel answered');
  }

  /** Waits until the sentinels report a master other than `oldPort` (a failover happened). */
  async untilFailedOver(oldPort: number, timeoutMs = 30_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const port = await this.masterPort().catch(() => oldPort);
      if (port !== oldPort) {
        return port;
      }
      if (performance.now() > deadline) {
        throw new Error(`no failover from ${oldPort} within ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }

  private async untilSettled(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const others = this.sentinels.length - 1;
    for (;;) {
      const views = await Promise.all(
        this.sentinels.map((sentinel) =>
          probeTcp(sentinel.port, `SENTINEL master ${SENTINEL_MASTER_NAME}\r\n`).catch(() => ''),
        ),
      );
      const replication = await Promise.all(
        this.replicas.map((replica) => probeTcp(replica.port, 'INFO replication\r\n').catch(() => '')),
      );
      // RESP: the reply is a flat array of bulk strings, `…\r\n$19\r\nnum-other-sentinels\r\n$1\r\n2\r\n…`.
      const field = (view: string, key: string) =>
        Number(new RegExp(`\\r\\n${key}\\r\\n\\$\\d+\\r\\n(\\d+)`).exec(view)?.[1]);
      if (
        views.every(
          (view) => field(view, 'num-other-sentinels') >= others && field(view, 'num-slaves') >= this.replicas.length,
        ) &&
        replication.every((info) => info.includes('master_link_status:up'))
      ) {
        return;
      }
      if (performance.now() > deadline) {
        throw new Error(`Redis Sentinel group did not settle within ${timeoutMs} ms`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    for (const sentinel of this.sentinels) {
      await sentinel.process.stop().catch(() => undefined);
    }
    await Promise.all([this.master, ...this.replicas].map((server) => server.stop().catch(() => undefined)));
  }
}

async function startSentinel(
  dir: string,
  name: string,
  options: { masterPort: number; quorum: number },
): Promise<{ port: number; process: ManagedProcess }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  // Sentinel rewrites its own file (what it learns about replicas and peers), so it must be writable.
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode no',
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${options.masterPort} ${options.quorum}`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  const process = new ManagedProcess({
    name,
    command: findBinary('redis-server'),
    args: [conf, '--sentinel'],
    logFile: join(dir, 'sentinel.log'),
    ready: async () => (await probeTcp(port, 'PING\r\n')).startsWith('+PONG'),
  });
  await process.start();
  return { port, process };
}
