import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findBinary } from './binaries';
import { ManagedProcess } from './managed-process';
import { freePort, probeTcp } from './ports';

const TEMPLATE = resolve(__dirname, '../../nginx/local.conf.template');

/** Renders nginx/local.conf.template with a static upstream over the given app ports. */
export function renderLocalNginxConfig(listenPort: number, upstreamPorts: number[], prefix: string): string {
  const servers = upstreamPorts.map((port) => `    server 127.0.0.1:${port} max_fails=0;`).join('\n');
  return readFileSync(TEMPLATE, 'utf8')
    .replaceAll('{{LISTEN_PORT}}', String(listenPort))
    .replaceAll('{{UPSTREAM_SERVERS}}', servers)
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{USER_DIRECTIVE}}', process.getuid?.() === 0 ? 'user root;' : '');
}

/** nginx in front of the local replicas, configured from the same template the docs describe. */
export class NginxServer {
  readonly process: ManagedProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    const conf = join(dir, 'nginx.conf');
    this.process = new ManagedProcess({
      name: 'nginx',
      command: findBinary('nginx'),
      args: ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
      logFile: join(dir, 'stdout.log'),
      ready: async () => (await probeTcp(port, 'GET /nginx-health HTTP/1.0\r\n\r\n')).includes(' 200 '),
    });
  }

  static async start(dir: string, upstreamPorts: number[], port?: number): Promise<NginxServer> {
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const listen = port || (await freePort());
    writeFileSync(join(dir, 'nginx.conf'), renderLocalNginxConfig(listen, upstreamPorts, dir));
    const server = new NginxServer(dir, listen);
    await server.process.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The JSON access log (one object per request; buffered: complete after `stop`, or within 1 s). */
  get accessLog(): string {
    return join(this.dir, 'access.log');
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
