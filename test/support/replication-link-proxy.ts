import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis master (everyone — clients, sentinels, the replica — uses its
 * port) that can hold back the master's replication links: connections that sent `REPLCONF` (a
 * replica's handshake). While paused their bytes either way are buffered, not delivered; if the
 * master dies meanwhile they are dropped, as a network loses them with a crashed host. Other
 * connections flow untouched. So a test makes the replica lag without the sentinels noticing
 * anything wrong (the replica still replicates from the address they monitor).
 */
export class ReplicationLinkProxy {
  private paused = false;
  private readonly held: { to: Socket; chunk: Buffer }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<ReplicationLinkProxy> {
    const server: Server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      proxy.sockets.add(client).add(upstream);
      const link = { replication: false };
      const relay = (from: Socket, to: Socket, fromClient: boolean) => {
        from.on('data', (chunk: Buffer) => {
          if (fromClient && !link.replication && chunk.includes('REPLCONF')) {
            link.replication = true;
          }
          if (proxy.paused && link.replication) {
            proxy.held.push({ to, chunk });
          } else {
            to.write(chunk);
          }
        });
        from.on('close', () => {
          to.destroy();
          proxy.sockets.delete(from);
        });
        from.on('error', () => to.destroy());
      };
      relay(client, upstream, true);
      relay(upstream, client, false);
    });
    const proxy = new ReplicationLinkProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Holds back replication traffic from now on. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const { to, chunk } of this.held.splice(0)) {
      if (!to.destroyed) {
        to.write(chunk);
      }
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
