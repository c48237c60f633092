import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** COM_QUERY (0x03) carrying exactly `COMMIT`, as mysql2 sends it for TypeORM's commitTransaction. */
const COMMIT = Buffer.concat([Buffer.from([0x03]), Buffer.from('COMMIT')]);

/**
 * A TCP proxy in front of MySQL that can lose a COMMIT's reply: once armed, the next COMMIT is
 * forwarded to the server, which commits, and then the client's connection is cut before the
 * reply reaches it — the "outcome unknown" case, with the real server and the real driver.
 */
export class CommitCuttingProxy {
  private armed = false;
  private cuts = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<CommitCuttingProxy> {
    const server: Server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      proxy.track(client, upstream);
      let cutting = false;
      /** The upstream side outlives the client's: it still has a COMMIT to deliver. */
      let holding = false;
      client.on('data', (chunk: Buffer) => {
        if (proxy.commitDelayMs !== undefined && proxy.armed && chunk.includes(COMMIT)) {
          // The client is cut first; the server gets the COMMIT later (a commit still in flight).
          const delayMs = proxy.commitDelayMs;
          proxy.armed = false;
          proxy.cuts++;
          cutting = true;
          holding = true;
          client.destroy();
          setTimeout(() => {
            upstream.write(chunk);
            setTimeout(() => upstream.destroy(), 100);
          }, delayMs);
          return;
        }
        upstream.write(chunk);
        if (proxy.armed && chunk.includes(COMMIT)) {
          proxy.armed = false;
          proxy.cuts++;
          cutting = true;
          // Give the server time to commit, then drop both sides before the reply is relayed.
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
          }, 100);
        }
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!cutting) {
          client.write(chunk);
        }
      });
      client.on('error', () => !holding && upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => !holding && upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    const proxy = new CommitCuttingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private commitDelayMs?: number;

  /**
   * Cut the reply of the next COMMIT. With `commitDelayMs`, cut the client as the COMMIT leaves it
   * and hand the COMMIT to the server that much later: its outcome is decided after the client
   * gave up on it.
   */
  arm(options: { commitDelayMs?: number } = {}): void {
    this.armed = true;
    this.commitDelayMs = options.commitDelayMs;
  }

  get cutCount(): number {
    return this.cuts;
  }

  private track(...sockets: Socket[]): void {
    for (const socket of sockets) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
