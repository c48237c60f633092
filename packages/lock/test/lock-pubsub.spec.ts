import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { LockEngine } from '../src/lock-engine';
import { LockPubSub } from '../src/lock-pubsub';
import { LockService } from '../src/lock.service';
import { freePort, type RedisServer, startTestRedis } from './support/repo';
import { LockServices } from './support/lock-services';

/**
 * Release notifications must not be lost to ioredis' handshake, and a lost one must not cost a
 * waiter a whole lease: under CPU load a waiter once slept the 30 s watchdog lease (the cross-process
 * test's 30 s stall) because its subscriber reconnected while a release was published.
 */
describe('Lock release notifications (real Redis)', () => {
  let server: RedisServer;
  const services = new LockServices();

  beforeAll(async () => {
    server = await startTestRedis();
  });
  afterAll(async () => {
    services.closeAll();
    await server?.stop();
  });

  it('subscribes without breaking a connection still in its handshake (no reconnect, no error)', async () => {
    const subscriber = new Redis(server.url);
    const events: string[] = [];
    subscriber.on('error', (error: Error) => events.push(`error: ${error.message}`));
    subscriber.on('reconnecting', () => events.push('reconnecting'));
    const pubsub = new LockPubSub(subscriber);
    try {
      // The moment ioredis is most fragile: connected, ready check not yet done.
      const subscribed = new Promise<void>((resolve, reject) =>
        subscriber.once('connect', () => {
          pubsub.acquire('lock:{handshake}:released').then(resolve, reject);
        }),
      );
      await subscribed;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events).toEqual([]);
      expect(subscriber.status).toBe('ready');
      // And it hears releases.
      const publisher = new Redis(server.url);
      const heard = pubsub.waitForRelease(
        'lock:{handshake}:released',
        pubsub.version('lock:{handshake}:released'),
        5000,
      );
      await publisher.publish('lock:{handshake}:released', '1');
      const started = performance.now();
      await heard;
      expect(performance.now() - started).toBeLessThan(1000);
      publisher.disconnect();
    } finally {
      subscriber.disconnect();
    }
  });

  it('costs a waiter at most about a second when the release message never comes', async () => {
    const [holder, waiter] = [services.create([server.url]), services.create([server.url])];
    const redis = new Redis(server.url);
    try {
      const held = await holder.getLock('unannounced').tryLock({ leaseTime: 30_000 });
      expect(held).not.toBeNull();
      const waiting = waiter.getLock('unannounced').tryLock({ waitTime: 10_000, leaseTime: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Gone without a message (as if the notification were lost): the waiter was told 30 s.
      const started = performance.now();
      await redis.del('lock:{unannounced}');
      const granted = await waiting;
      expect(granted).not.toBeNull();
      expect(performance.now() - started).toBeLessThan(2500);
      await granted!.unlock();
    } finally {
      redis.disconnect();
    }
  });

  it('keeps to the wait time, and still gets the lock, when the subscriber never answers', async () => {
    // A server that accepts and never replies: the subscriber stays in its handshake for good.
    const sockets: Socket[] = [];
    const blackHole = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as AddressInfo;
    const deaf = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
    deaf.on('error', () => undefined);
    try {
      const holder = services.create([server.url]);
      const waiter = services.create([server.url], { subscriber: deaf });
      const held = await holder.getLock('deaf-waiter').tryLock({ leaseTime: 30_000 });
      expect(held).not.toBeNull();
      // Bounded: refused after its wait, not stuck on a subscription Redis never confirms.
      let started = performance.now();
      expect(await waiter.getLock('deaf-waiter').tryLock({ waitTime: 800, leaseTime: 5_000 })).toBeNull();
      expect(performance.now() - started).toBeLessThan(2500);
      // And with no message to wake it, it still sees the release within about a second.
      const waiting = waiter.getLock('deaf-waiter').tryLock({ waitTime: 10_000, leaseTime: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      started = performance.now();
      await held!.unlock();
      const granted = await waiting;
      expect(granted).not.toBeNull();
      expect(performance.now() - started).toBeLessThan(2500);
      await granted!.unlock();
    } finally {
      deaf.disconnect();
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });
  it("reports a subscriber's connection errors through the logger (the one the library duplicates for a node)", async () => {
    const port = await freePort();
    const node = new Redis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 50 });
    node.on('error', () => undefined);
    const warnings: string[] = [];
    const service = new LockService({
      instanceId: 'sub-errors',
      nodes: [node],
      logger: { warn: (m) => warnings.push(m) },
    });
    try {
      // A wait needs the node's subscriber: the library duplicates the node's connection for it.
      (service as unknown as { engine: LockEngine }).engine.pubsub(0);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Several failed reconnects, one warning (throttled), none left unhandled.
      expect(warnings.filter((warning) => warning.startsWith('Lock subscriber of node 0'))).toHaveLength(1);
    } finally {
      service.close();
      node.disconnect();
    }
  });
});
