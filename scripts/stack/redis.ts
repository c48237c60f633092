import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries';
import { ManagedProcess } from './managed-process';
import { freePort, probeTcp } from './ports';

export interface RedisServerOptions {
  /**
   * `appendonly yes` + `appendfsync always`: every write is on disk before Redis answers, and a
   * restart (even after SIGKILL) comes back with all of it — what ORDER_MODE=async requires.
   * Otherwise nothing is persisted and a restart comes back empty.
   */
  durable?: boolean;
  /** A Redis Cluster node (`cluster-enabled yes`, its own nodes.conf; join it with `RedisCluster`). */
  cluster?: boolean;
  /** A replica of the master on this port of 127.0.0.1 (`replicaof`). */
  replicaOf?: number;
}

const BIND_ATTEMPTS = 3;

interface RedisPorts {
  port: number;
  /** The cluster bus port; Redis' default (port + 10000) is not known to be free. */
  busPort?: number;
}

/** An isolated redis-server on its own port, in its own folder. Restart keeps the port. */
export class RedisServer {
  readonly process: ManagedProcess;

  readonly port: number;

  private constructor(
    readonly dir: string,
    name: string,
    readonly options: RedisServerOptions,
    ports: RedisPorts,
  ) {
    const { port, busPort } = ports;
    this.port = port;
    const persistence = options.durable
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--appendfilename', 'appendonly.aof']
      : ['--appendonly', 'no'];
    this.process = new ManagedProcess({
      name,
      command: findBinary('redis-server'),
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...persistence,
        '--maxmemory-policy',
        'noeviction',
        '--protected-mode',
        'no',
        '--dir',
        dir,
        '--maxclients',
        '10000',
        ...(options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(options.replicaOf)]),
        ...(options.cluster
          ? [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              join(dir, 'nodes.conf'),
              '--cluster-node-timeout',
              '2000',
              '--cluster-port',
              String(busPort),
            ]
          : []),
      ],
      logFile: join(dir, 'redis.log'),
      // Answering PING is not enough: a server another test started on the same port (it won the
      // bind, ours exited) answers too. Ready means this child answers, and has loaded its data.
      ready: async () =>
        (await probeTcp(port, 'PING\r\n')).startsWith('+PONG') &&
        new RegExp(`\\bprocess_id:${this.process.pid}\\r`).test(await probeTcp(port, 'INFO server\r\n')),
    });
  }

  static async start(dir: string, name = 'redis', options: RedisServerOptions = {}): Promise<RedisServer> {
    mkdirSync(dir, { recursive: true });
    // A port the kernel called free can be taken before redis-server binds it (another test's
    // outgoing connection, say): try fresh ports a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      const ports = { port: await freePort(), busPort: options.cluster ? await freePort() : undefined };
      const server = new RedisServer(dir, name, options, ports);
      try {
        await server.process.start();
        return server;
      } catch (error) {
        if (attempt >= BIND_ATTEMPTS || !/Address already in use/.test(String(error))) {
          throw error;
        }
        rmSync(join(dir, 'nodes.conf'), { force: true });
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
