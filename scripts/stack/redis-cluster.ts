import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './binaries';
import { probeTcp } from './ports';
import { RedisServer } from './redis';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Redis Cluster of `masters` isolated redis-servers (no replicas), each on its own free port and
 * folder, joined with `redis-cli --cluster create` and ready once every node reports `cluster_state:ok`.
 */
export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(dir: string, name = 'redis-cluster', masters = 3): Promise<RedisCluster> {
    const servers = await Promise.all(
      Array.from({ length: masters }, (_, i) =>
        RedisServer.start(join(dir, `node-${i}`), `${name}-${i}`, { cluster: true }),
      ),
    );
    const cluster = new RedisCluster(servers);
    try {
      await run(
        findBinary('redis-cli'),
        [
          '--cluster',
          'create',
          ...servers.map((server) => `127.0.0.1:${server.port}`),
          '--cluster-replicas',
          '0',
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

  private async allOk(): Promise<boolean> {
    const answers = await Promise.all(
      this.servers.map((server) => probeTcp(server.port, 'CLUSTER INFO\r\n').catch(() => '')),
    );
    return answers.every((answer) => answer.includes('cluster_state:ok'));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}
