import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './binaries';
import { probeTcp } from './ports';
import { RedisServer } from './redis';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RedisClusterOptions {
  /** Masters (slots are split evenly between them); default 3. */
  masters?: number;
  /** Replicas of each master (`--cluster-replicas`); default 0. */
  replicasPerMaster?: number;
  /** AOF with fsync on every write on every node (what ORDER_MODE=async requires). */
  durable?: boolean;
}

/**
 * A Redis Cluster of isolated redis-servers, each on its own free port and folder, joined with
 * `redis-cli --cluster create` and ready once every node reports `cluster_state:ok` (and every
 * replica's link to its master is up).
 */
export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(dir: string, name = 'redis-cluster', options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 0;
    const started = await Promise.allSettled(
      Array.from({ length: masters * (1 + replicas) }, (_, i) =>
        RedisServer.start(join(dir, `node-${i}`), `${name}-${i}`, { cluster: true, durable: options.durable }),
      ),
    );
    const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      // The nodes that did start are ours to stop: nobody else holds them.
      await Promise.all(servers.map((server) => server.stop()));
      throw failed.reason;
    }
    const cluster = new RedisCluster(servers);
    try {
      await run(
        findBinary('redis-cli'),
        [
          '--cluster',
          'create',
          ...servers.map((server) => `127.0.0.1:${server.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      const deadline = performance.now() + 30_000;
      while (!(await cluster.allOk())) {
        if (performance.now() > deadline) {
          throw new Error('Redis Cluster did not reach cluster_state:ok within 30 s');
        }
        await sleep(100);
      }
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Seed nodes, as ioredis' `Cluster` takes them. */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
  }

  /** Seed URLs, as REDIS_CLUSTER_NODES takes them. */
  get urls(): string[] {
    return this.servers.map((server) => server.url);
  }

  private async allOk(): Promise<boolean> {
    const answers = await Promise.all(
      this.servers.map(async (server) => {
        const [cluster, replication] = await Promise.all([
          probeTcp(server.port, 'CLUSTER INFO\r\n').catch(() => ''),
          probeTcp(server.port, 'INFO replication\r\n').catch(() => ''),
        ]);
        return cluster.includes('cluster_state:ok') && !/role:slave[\s\S]*master_link_status:down/.test(replication);
      }),
    );
    return answers.every(Boolean);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}
