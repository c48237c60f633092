import { Redis } from 'ioredis';
import { LockService } from '../../src/lock.service';
import type { LockServiceOptions } from '../../src';

/** LockServices under test and the connections they use; `closeAll()` in afterAll. */
export class LockServices {
  private readonly connections: Redis[] = [];
  private readonly services: LockService[] = [];

  connect(url: string): Redis {
    const connection = new Redis(url, { maxRetriesPerRequest: 2, retryStrategy: () => 100 });
    connection.on('error', () => undefined);
    this.connections.push(connection);
    return connection;
  }

  /** A LockService (a stand-in for one replica) over the given node URLs; node 0 gets a subscriber. */
  create(urls: string[], options: Partial<LockServiceOptions> = {}): LockService {
    const service = new LockService({
      instanceId: `test-${this.services.length + 1}`,
      nodes: urls.map((url) => this.connect(url)),
      subscriber: this.connect(urls[0]),
      ...options,
    });
    this.services.push(service);
    return service;
  }

  closeAll(): void {
    for (const service of this.services) {
      service.close();
    }
    for (const connection of this.connections) {
      connection.disconnect();
    }
  }
}
