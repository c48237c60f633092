import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries';
import { ManagedProcess } from './managed-process';
import { freePort, probeTcp } from './ports';

/** Debian's `zookeeper` package: the server jar; its manifest's Class-Path names the dependencies. */
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

export interface ZooKeeperServerOptions {
  /**
   * ZooKeeper's time unit (ms). Sessions may time out between 2 and 20 ticks, so a small tick lets
   * tests use short session timeouts (default 100 ms: sessions of 200 ms to 2 s).
   */
  tickTimeMs?: number;
}

/**
 * A standalone ZooKeeper server (Debian's `zookeeper` package, run as `java … ZooKeeperServerMain`
 * so the pid is the server's) on its own port, with its data in its own folder. Restart keeps the
 * port and the data.
 */
export class ZooKeeperServer {
  readonly process: ManagedProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    name: string,
  ) {
    this.process = new ManagedProcess({
      name,
      command: findBinary('java'),
      args: [
        '-Xms32m',
        '-Xmx192m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dzookeeper.admin.enableServer=false',
        '-Dzookeeper.jmx.log4j.disable=true',
        `-Dzookeeper.log.dir=${dir}`,
        '-cp',
        `${dir}:${ZOOKEEPER_JAR}`,
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        join(dir, 'zoo.cfg'),
      ],
      logFile: join(dir, 'zookeeper.log'),
      ready: async () => (await probeTcp(port, 'ruok').catch(() => '')) === 'imok',
      readyTimeoutMs: 30_000,
    });
  }

  static async start(dir: string, name = 'zookeeper', options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    if (!existsSync(ZOOKEEPER_JAR)) {
      throw new Error(
        `${ZOOKEEPER_JAR} not found: install it with \`$(command -v sudo) apt-get install -y zookeeper\``,
      );
    }
    mkdirSync(join(dir, 'data'), { recursive: true });
    const port = await freePort();
    writeFileSync(
      join(dir, 'zoo.cfg'),
      [
        `tickTime=${options.tickTimeMs ?? 100}`,
        `dataDir=${join(dir, 'data')}`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'maxClientCnxns=0',
        '4lw.commands.whitelist=ruok,srvr,mntr',
        // Transaction-log fsync stays on (the default): what is acknowledged survives a crash.
        '',
      ].join('\n'),
    );
    const server = new ZooKeeperServer(dir, port, name);
    await server.process.start();
    return server;
  }

  /** `host:port`, as ZooKeeper clients take it. */
  get connectionString(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
