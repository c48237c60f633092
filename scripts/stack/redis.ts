import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries';
import { ManagedProcess } from './managed-process';
import { freePort, probeTcp } from './ports';

/** An isolated, non-persistent redis-server on its own port. Restart keeps the port, loses the data. */
export class RedisServer {
  readonly process: ManagedProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    name: string,
  ) {
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
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--dir',
        dir,
        '--maxclients',
        '10000',
      ],
      logFile: join(dir, 'redis.log'),
      ready: async () => (await probeTcp(port, 'PING\r\n')).startsWith('+PONG'),
    });
  }

  static async start(dir: string, name = 'redis'): Promise<RedisServer> {
    mkdirSync(dir, { recursive: true });
    const server = new RedisServer(dir, await freePort(), name);
    await server.process.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
