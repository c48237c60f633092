import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { createPool, type Pool } from 'mysql2/promise';
import { createClient as createZooKeeperClient, type Client as ZooKeeperClient } from 'node-zookeeper-client';
import {
  LockLostError,
  LockNotHeldError,
  LockService,
  LockTimeoutError,
  LockUnavailableError,
  type Lockable,
  type LockHandle,
} from '../src';
import { MySqlNamedLockBackend, MySqlRowLockBackend, MySqlTableLockBackend } from '../src/mysql';
import { ZooKeeperLockBackend } from '../src/zookeeper';
import {
  type RedisServer,
  RedisCluster,
  type ZooKeeperServer,
  createTestDatabase,
  startTestRedis,
  startTestZooKeeper,
  testDir,
  REPO_ROOT,
} from './support/repo';
import { assertPackageBuilt, PACKAGE_ROOT } from './support/built-package';

const run = promisify(execFile);
const TABLE = 'distributed_lock';
/** Short ZooKeeper sessions (the test server ticks every 100 ms): a dead holder is freed within about a second. */
const ZK_SESSION_MS = 800;

/**
 * A contender process on the published package: `contend` runs tasks × rounds of an unprotected
 * read-modify-write on a Redis counter under the lock; `hold` takes the lock (watchdog lease) and
 * keeps it until killed.
 */
const CHILD_JS = `
const manifest = require(${JSON.stringify(join(PACKAGE_ROOT, 'package.json'))});
// What a user imports: the core entry, and the backends from their own entries.
const lib = Object.assign(
  {},
  ...['.', './mysql', './zookeeper'].map((entry) => require(${JSON.stringify(PACKAGE_ROOT)} + '/' + manifest.exports[entry].default)),
);
const { Cluster, Redis } = require(${JSON.stringify(join(REPO_ROOT, 'node_modules/ioredis'))});
const { createPool } = require(${JSON.stringify(join(REPO_ROOT, 'node_modules/mysql2/promise'))});
const zookeeper = require(${JSON.stringify(join(REPO_ROOT, 'node_modules/node-zookeeper-client'))});
const [command, kind, redisUrl, mysqlUrl, zkUrl, name, tasks, rounds] = process.argv.slice(2);
(async () => {
  const redis = new Redis(redisUrl);
  const pool = createPool({ uri: mysqlUrl, connectionLimit: 4 });
  const table = new lib.MySqlTableLockBackend({ client: pool, watchdogTimeoutMs: 600, retry: { maxMs: 50 } });
  // Session-bound styles pin a connection per holder and waiter: a pool of their own, one per task and one spare.
  const sessions = createPool({ uri: mysqlUrl, connectionLimit: Number(tasks ?? 1) + 1 });
  const named = new lib.MySqlNamedLockBackend({ pool: sessions, watchdogTimeoutMs: 600 });
  const row = new lib.MySqlRowLockBackend({ pool: sessions, watchdogTimeoutMs: 600 });
  const zk = new lib.ZooKeeperLockBackend({
    createClient: () => zookeeper.createClient(zkUrl, { sessionTimeout: ${ZK_SESSION_MS} }),
  });
  const subscriber = redis.duplicate();
  // 'redis-cluster': the Redis lock on a Redis Cluster (seeds in CLUSTER_NODES), with sharded pub/sub.
  const onCluster = kind === 'redis-cluster';
  const seeds = JSON.parse(process.env.CLUSTER_NODES || '[]');
  const clusterClients = onCluster
    ? [new Cluster(seeds, { enableAutoPipelining: true }), new Cluster(seeds, { shardedSubscribers: true })]
    : [];
  const locks = onCluster
    ? new lib.LockService({
        instanceId: 'child-' + process.pid, nodes: [clusterClients[0]], subscriber: clusterClients[1],
        watchdogTimeoutMs: 600, shardedPubSub: true,
      })
    : new lib.LockService({
        instanceId: 'child-' + process.pid, nodes: [redis], subscriber,
        watchdogTimeoutMs: 600, backends: [table, named, row, zk],
      });
  const backendOf = onCluster ? 'redis' : kind;
  if (command === 'hold') {
    const handle = await locks.withOwner(() => locks.getLockIn(backendOf, name).lock());
    process.stdout.write('held ' + handle.fencingToken + '\\n');
    handle.signal.addEventListener('abort', () => process.stdout.write('lost ' + handle.signal.reason.message + '\\n'));
    return;
  }
  await Promise.all(Array.from({ length: Number(tasks) }, async () => {
    for (let i = 0; i < Number(rounds); i++) {
      const section = async () => {
        const value = Number(await redis.get('contract:' + kind));
        await new Promise((r) => setTimeout(r, 1));
        await redis.set('contract:' + kind, String(value + 1));
      };
      // 'none': the negative control, the same load without any lock.
      await (kind === 'none' ? section() : locks.withLock(name, { backend: backendOf, waitTime: 60000 }, section));
    }
  }));
  locks.close();
  clusterClients.forEach((client) => client.disconnect());
  redis.disconnect();
  subscriber.disconnect();
  await pool.end();
  await sessions.end();
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** The signal's reason once it aborts, or 'not aborted' after `ms`. */
function abortReason(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('not aborted'), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(signal.reason);
      },
      { once: true },
    );
  });
}

interface Backend {
  kind: string;
  /** The service whose locks these are (its events carry them). */
  service: () => LockService;
  /** A lock of a new owner (every call is another owner, as another request would be). */
  lock(name: string): Lockable;
  /** The same owner for everything `fn` creates. */
  asOneOwner<T>(fn: (lock: (name: string) => Lockable) => Promise<T>): Promise<T>;
}

describe('Lock backend contract (the same suite for every backend, real servers, contenders as processes)', () => {
  let redisServer: RedisServer;
  let redis: Redis;
  let subscriber: Redis;
  let mysqlUrl: string;
  let pool: Pool;
  let locks: LockService;
  /** The Redis lock on a Redis Cluster (3 masters), sharded pub/sub: the 'redis-cluster' run. */
  let redisCluster: RedisCluster;
  const clusterClients: Cluster[] = [];
  let clusterLocks: LockService;
  let table: MySqlTableLockBackend;
  let sessions: Pool;
  let named: MySqlNamedLockBackend;
  let row: MySqlRowLockBackend;
  let zkServer: ZooKeeperServer;
  let zk: ZooKeeperLockBackend;
  /** Every client the parent's ZooKeeper backend made (the session-expiry test takes over one's session). */
  const zkClients: ZooKeeperClient[] = [];
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    assertPackageBuilt();
    redisServer = await startTestRedis('redis-contract');
    redis = new Redis(redisServer.url);
    subscriber = new Redis(redisServer.url);
    mysqlUrl = await createTestDatabase('lock_contract');
    pool = createPool({ uri: mysqlUrl, connectionLimit: 8 });
    table = new MySqlTableLockBackend({ client: pool, table: TABLE, watchdogTimeoutMs: 600, retry: { maxMs: 50 } });
    await table.ensureTable();
    sessions = createPool({ uri: mysqlUrl, connectionLimit: 8 });
    named = new MySqlNamedLockBackend({ pool: sessions, watchdogTimeoutMs: 600 });
    row = new MySqlRowLockBackend({ pool: sessions, watchdogTimeoutMs: 600 });
    await named.ensureTable();
    await row.ensureTable();
    zkServer = await startTestZooKeeper('zk-contract');
    zk = new ZooKeeperLockBackend({
      createClient: () => {
        const client = createZooKeeperClient(zkServer.connectionString, { sessionTimeout: ZK_SESSION_MS });
        zkClients.push(client);
        return client;
      },
    });
    locks = new LockService({
      instanceId: 'contract',
      nodes: [redis],
      subscriber,
      watchdogTimeoutMs: 600,
      backends: [table, named, row, zk],
    });
    redisCluster = await RedisCluster.start(testDir('lock-contract-cluster'), 'contract-cluster');
    clusterClients.push(
      new Cluster(redisCluster.nodes, { enableAutoPipelining: true }),
      new Cluster(redisCluster.nodes, { shardedSubscribers: true }),
    );
    clusterLocks = new LockService({
      instanceId: 'contract-cluster',
      nodes: [clusterClients[0]],
      subscriber: clusterClients[1],
      watchdogTimeoutMs: 600,
      shardedPubSub: true,
    });
    dir = testDir('lock-contract');
    writeFileSync(join(dir, 'child.js'), CHILD_JS);
  }, 60_000);
  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
    }
    locks?.close();
    clusterLocks?.close();
    clusterClients.forEach((client) => client.disconnect());
    await redisCluster?.stop();
    redis?.disconnect();
    subscriber?.disconnect();
    await pool?.end();
    await sessions?.end();
    await redisServer?.stop();
    await zkServer?.stop();
  });

  const backends: Backend[] = [
    ...['redis', 'mysql-table', 'mysql-named', 'mysql-row', 'zookeeper'].map((kind): Backend => ({
      kind,
      service: () => locks,
      lock: (name) => locks.getLockIn(kind, name),
      asOneOwner: (fn) => locks.withOwner(() => fn((name) => locks.getLockIn(kind, name))),
    })),
    {
      kind: 'redis-cluster',
      service: () => clusterLocks,
      lock: (name) => clusterLocks.getLock(name),
      asOneOwner: (fn) => clusterLocks.withOwner(() => fn((name) => clusterLocks.getLock(name))),
    },
  ];
  /** The contenders' environment: the cluster's seeds for the 'redis-cluster' run. */
  const childEnv = () => ({ ...process.env, CLUSTER_NODES: JSON.stringify(redisCluster.nodes) });
  /** The tag the service puts on a backend's events (none for its Redis locks). */
  const eventTag = (kind: string) => (kind.startsWith('redis') ? undefined : kind);

  describe.each(backends)('$kind', (backend) => {
    const name = (what: string) => `contract:${backend.kind}:${what}`;

    it('excludes across processes: 3 processes × 4 tasks × 10 rounds lose no update', async () => {
      await Promise.all(
        [1, 2, 3].map(() =>
          run(
            process.execPath,
            [
              join(dir, 'child.js'),
              'contend',
              backend.kind,
              redisServer.url,
              mysqlUrl,
              zkServer.connectionString,
              name('mutex'),
              '4',
              '10',
            ],
            {
              timeout: 90_000,
              env: childEnv(),
            },
          ),
        ),
      );
      expect(Number(await redis.get(`contract:${backend.kind}`))).toBe(3 * 4 * 10);
    });

    it('times out with LockTimeoutError (lock) or null (tryLock) while another owner holds it', async () => {
      const held = await backend.lock(name('timeout')).lock({ leaseTime: 5000 });
      await expect(backend.lock(name('timeout')).tryLock({ waitTime: 100 })).resolves.toBeNull();
      await expect(backend.lock(name('timeout')).lock({ waitTime: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
      await held.unlock();
      const next = await backend.lock(name('timeout')).tryLock({ waitTime: 100 });
      expect(next).not.toBeNull();
      await next!.unlock();
    });

    it('re-enters per owner (hold count, same token) and excludes other owners until the last unlock', async () => {
      // Created outside the owner's frame: another owner, as a concurrent request would be.
      const other = backend.lock(name('reentry'));
      await backend.asOneOwner(async (lock) => {
        const outer = await lock(name('reentry')).lock({ waitTime: 1000 });
        const inner = await lock(name('reentry')).lock({ waitTime: 1000 });
        expect(inner.holdCount).toBe(2);
        expect(inner.fencingToken).toBe(outer.fencingToken);
        await expect(other.tryLock()).resolves.toBeNull();
        await inner.unlock();
        await expect(other.tryLock()).resolves.toBeNull();
        await outer.unlock();
      });
      const after = await other.tryLock();
      expect(after).not.toBeNull();
      await after!.unlock();
    });

    it('unlocks a handle once: a second unlock rejects with LockNotHeldError and gives back nothing', async () => {
      const other = backend.lock(name('once'));
      await backend.asOneOwner(async (lock) => {
        const outer = await lock(name('once')).lock({ waitTime: 1000 });
        const inner = await lock(name('once')).lock({ waitTime: 1000 });
        await inner.unlock();
        await expect(inner.unlock()).rejects.toBeInstanceOf(LockNotHeldError);
        // The outer hold is still there.
        await expect(other.tryLock()).resolves.toBeNull();
        await outer.unlock();
        await expect(outer.unlock()).rejects.toBeInstanceOf(LockNotHeldError);
      });
      const after = await other.tryLock();
      expect(after).not.toBeNull();
      await after!.unlock();
    });

    it('hands out strictly increasing fencing tokens, and only the owner can release (a takeover after expiry)', async () => {
      const tokens: number[] = [];
      for (let i = 0; i < 3; i++) {
        const handle = await backend.lock(name('fence')).lock({ waitTime: 1000 });
        tokens.push(handle.fencingToken);
        await handle.unlock();
      }
      const stale = await backend.lock(name('fence')).lock({ leaseTime: 200 });
      tokens.push(stale.fencingToken);
      await sleep(350);
      const taker = await backend.lock(name('fence')).lock({ waitTime: 1000, leaseTime: 5000 });
      tokens.push(taker.fencingToken);
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      expect(new Set(tokens).size).toBe(tokens.length);
      // The expired holder's release fails and leaves the new owner's lock alone.
      await expect(stale.unlock()).rejects.toBeInstanceOf(LockLostError);
      await expect(backend.lock(name('fence')).tryLock()).resolves.toBeNull();
      await taker.unlock();
    });

    it('reports acquired, timed-out, released and lost through the service’s events, tagged with the backend', async () => {
      const seen: string[] = [];
      const mine = (event: { name: string; backend?: string }) =>
        event.name === name('events') && event.backend === eventTag(backend.kind);
      const service = backend.service();
      const unsubscribe = [
        service.onLockAcquired((event) => mine(event) && seen.push('acquired')),
        service.onLockTimedOut((event) => mine(event) && seen.push('timed-out')),
        service.onLockReleased((event) => mine(event) && seen.push('released')),
        service.onLockLost((event) => mine(event) && seen.push(`lost:${event.reason}`)),
      ];
      try {
        const held = await backend.lock(name('events')).lock({ waitTime: 1000 });
        await expect(backend.lock(name('events')).tryLock({ waitTime: 50 })).resolves.toBeNull();
        await held.unlock();
        const leased = await backend.lock(name('events')).lock({ waitTime: 1000, leaseTime: 150 });
        await abortReason(leased.signal, 2000);
        await leased.unlock().catch(() => undefined);
        await sleep(50);
        // (Unlocking the lost hold may still delete it — Redis expires the key a moment after the
        // holder's own lease timer fired — and report that as released: allowed, not required.)
        expect(seen.slice(0, 5)).toEqual(['acquired', 'timed-out', 'released', 'acquired', 'lost:lease-elapsed']);
        expect(seen.slice(5)).toEqual(seen.length > 5 ? ['released'] : []);
      } finally {
        unsubscribe.forEach((off) => off());
      }
    });

    it('fires the lost signal when a lease runs out while held', async () => {
      const handle: LockHandle = await backend.lock(name('lost')).lock({ leaseTime: 200 });
      expect(await abortReason(handle.signal, 2000)).toBeInstanceOf(LockLostError);
      await expect(handle.assertHeld()).rejects.toBeInstanceOf(LockLostError);
      await expect(handle.unlock()).rejects.toBeInstanceOf(LockLostError);
    });

    it('keeps a live holder’s lock past its lease (watchdog) and frees a SIGKILLed holder by itself', async () => {
      const child = spawn(
        process.execPath,
        [
          join(dir, 'child.js'),
          'hold',
          backend.kind,
          redisServer.url,
          mysqlUrl,
          zkServer.connectionString,
          name('kill'),
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: childEnv(),
        },
      );
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => data.toString().includes('held') && resolve());
        child.once('exit', (code) => reject(new Error(`holder exited (${code})`)));
      });
      // Three leases (600 ms) later the living holder still has it: it is renewed, not just leased.
      await expect(backend.lock(name('kill')).tryLock({ waitTime: 1800 })).resolves.toBeNull();
      child.kill('SIGKILL');
      const killedAt = performance.now();
      const after = await backend.lock(name('kill')).tryLock({ waitTime: 5000 });
      expect(after).not.toBeNull();
      expect(performance.now() - killedAt).toBeLessThan(2000);
      await after!.unlock();
    });
  });

  describe.each(backends)('$kind paused holder', (backend) => {
    // Leases and ZooKeeper sessions expire under a holder that stops (GC pause, SIGSTOP); sessions
    // of the session-bound MySQL styles do not (their TCP connection stays up): the README's table.
    const expires = !['mysql-named', 'mysql-row'].includes(backend.kind);

    it(
      expires
        ? 'a SIGSTOPped holder loses the lock to the next owner (larger token) and is told so when it resumes'
        : 'a SIGSTOPped holder keeps the lock (the session lives on)',
      async () => {
        const name = `contract:${backend.kind}:paused-holder`;
        const child = spawn(
          process.execPath,
          [join(dir, 'child.js'), 'hold', backend.kind, redisServer.url, mysqlUrl, zkServer.connectionString, name],
          { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv() },
        );
        children.push(child);
        let output = '';
        child.stdout.on('data', (data: Buffer) => (output += data.toString()));
        const until = async (pattern: RegExp, ms: number) => {
          const deadline = performance.now() + ms;
          while (!pattern.test(output) && performance.now() < deadline) {
            await sleep(20);
          }
          return pattern.exec(output);
        };
        const held = await until(/held (\d+)/, 10_000);
        expect(held).not.toBeNull();
        child.kill('SIGSTOP');
        try {
          const next = await backend.lock(name).tryLock({ waitTime: 3000, leaseTime: 10_000 });
          if (!expires) {
            expect(next).toBeNull();
            return;
          }
          expect(next).not.toBeNull();
          expect(next!.fencingToken).toBeGreaterThan(Number(held![1]));
          child.kill('SIGCONT');
          expect(await until(/lost /, 5000)).not.toBeNull();
          await next!.unlock();
        } finally {
          child.kill('SIGCONT');
          child.kill('SIGKILL');
        }
      },
    );
  });

  describe.each(backends.filter((backend) => !backend.kind.startsWith('redis')))('$kind waiters', (backend) => {
    it('a waiter SIGKILLed while waiting does not stall the next one', async () => {
      const name = `contract:${backend.kind}:dead-waiter`;
      const held = await backend.lock(name).lock({ leaseTime: 10_000 });
      const child = spawn(
        process.execPath,
        [join(dir, 'child.js'), 'hold', backend.kind, redisServer.url, mysqlUrl, zkServer.connectionString, name],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: childEnv(),
        },
      );
      children.push(child);
      await sleep(500);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const next = backend.lock(name).tryLock({ waitTime: 10_000 });
      await sleep(100);
      const releasedAt = performance.now();
      await held.unlock();
      const handle = await next;
      expect(handle).not.toBeNull();
      expect(performance.now() - releasedAt).toBeLessThan(1500);
      await handle!.unlock();
    });
  });

  describe.each([
    { kind: 'mysql-named', holders: (name: string) => `SELECT IS_USED_LOCK('lock:${name}') AS id` },
    {
      kind: 'mysql-row',
      // Every open transaction in this suite's database (earlier tests' sessions may still hold some;
      // other suites run in parallel on databases of their own): the holder is the one new after lock().
      holders: () =>
        'SELECT t.trx_mysql_thread_id AS id FROM information_schema.INNODB_TRX t ' +
        'JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id ' +
        "WHERE t.trx_state = 'RUNNING' AND p.DB = DATABASE()",
    },
  ])('$kind specifics', ({ kind, holders }) => {
    it('a session killed on the server fires the lost signal and frees the lock', async () => {
      const name = `contract:${kind}:killed-session`;
      // InnoDB refreshes its INNODB_TRX snapshot at most every 100 ms: each read waits that out.
      const read = async () => {
        await sleep(150);
        const [rows] = (await pool.query(holders(name))) as unknown as [{ id: number | null }[]];
        return rows.map((row) => Number(row.id));
      };
      const before = new Set(await read());
      const handle = await locks.getLockIn(kind, name).lock();
      const ids = (await read()).filter((id) => !before.has(id));
      expect(ids.length).toBe(1);
      const lost = abortReason(handle.signal, 3000);
      await pool.query(`KILL ${ids[0]}`);
      expect(await lost).toBeInstanceOf(LockLostError);
      const next = await locks.getLockIn(kind, name).tryLock({ waitTime: 2000 });
      expect(next).not.toBeNull();
      await next!.unlock();
      await expect(handle.unlock()).rejects.toBeInstanceOf(LockLostError);
    });
  });

  describe('zookeeper specifics', () => {
    it('a session expired by the server fires the lost signal, and the next owner gets the lock', async () => {
      const name = 'contract:zookeeper:expired';
      const handle = await locks.getLockIn('zookeeper', name).lock();
      // ZooKeeper's way to expire a session on purpose: a second client joins it and closes it. The
      // holder's client, cut off by the join, may win the session back before the close arrives
      // (then the session rightly lives on): so up to five rounds.
      const holder = zkClients[zkClients.length - 1];
      for (let round = 0; round < 5 && !handle.signal.aborted; round++) {
        const thief = createZooKeeperClient(zkServer.connectionString, {
          sessionTimeout: ZK_SESSION_MS,
          sessionId: holder.getSessionId(),
          sessionPassword: holder.getSessionPassword(),
        } as Parameters<typeof createZooKeeperClient>[1]);
        await new Promise<void>((resolve) => {
          thief.once('connected', () => resolve());
          thief.connect();
        });
        thief.close();
        await abortReason(handle.signal, 1500);
      }
      expect(handle.signal.reason).toBeInstanceOf(LockLostError);
      await expect(handle.unlock()).rejects.toBeInstanceOf(LockLostError);
      const next = await locks.getLockIn('zookeeper', name).tryLock({ waitTime: 3000 });
      expect(next).not.toBeNull();
      await next!.unlock();
    });

    it('a server that stops answering makes the holder presume its session lost before it can expire', async () => {
      const name = 'contract:zookeeper:paused';
      const handle = await locks.getLockIn('zookeeper', name).lock();
      const lost = abortReason(handle.signal, 5000);
      const pausedAt = performance.now();
      zkServer.process.pause();
      try {
        expect(await lost).toBeInstanceOf(LockLostError);
        // Presumed lost within the session timeout: before the server could give the lock away.
        expect(performance.now() - pausedAt).toBeLessThan(ZK_SESSION_MS);
      } finally {
        zkServer.process.resume();
      }
      await expect(handle.unlock()).rejects.toBeInstanceOf(LockLostError);
      const next = await locks.getLockIn('zookeeper', name).tryLock({ waitTime: 5000 });
      expect(next).not.toBeNull();
      await next!.unlock();
    });
  });

  it('mysql-row gives its connection back as it found it (lock wait timeout reset, no open transaction)', async () => {
    const single = createPool({ uri: mysqlUrl, connectionLimit: 1 });
    const rowOnOne = new MySqlRowLockBackend({ pool: single });
    try {
      const held = await row.getLock('contract:row:reset', 'other-owner').lock();
      // Waits in InnoDB with a session timeout of whole seconds, then gives up.
      await expect(rowOnOne.getLock('contract:row:reset', 'me').tryLock({ waitTime: 1200 })).resolves.toBeNull();
      await held.unlock();
      const granted = await rowOnOne.getLock('contract:row:reset', 'me').lock({ waitTime: 2500 });
      await granted.unlock();
      const [[state]] = (await single.query(
        'SELECT @@SESSION.innodb_lock_wait_timeout = @@GLOBAL.innodb_lock_wait_timeout AS reset, @@in_transaction AS open',
      )) as unknown as [{ reset: number; open: number }[]];
      expect(state).toEqual({ reset: 1, open: 0 });
    } finally {
      await rowOnOne.close();
      await single.end();
    }
  });

  it('negative control: the same load without a lock loses updates (so the mutual-exclusion checks can fail)', async () => {
    await Promise.all(
      [1, 2, 3].map(() =>
        run(
          process.execPath,
          [
            join(dir, 'child.js'),
            'contend',
            'none',
            redisServer.url,
            mysqlUrl,
            zkServer.connectionString,
            'unused',
            '4',
            '10',
          ],
          {
            timeout: 90_000,
            env: childEnv(),
          },
        ),
      ),
    );
    expect(Number(await redis.get('contract:none'))).toBeLessThan(3 * 4 * 10);
  });

  describe('mysql-table specifics', () => {
    it('fails a statement that gets no answer with LockUnavailableError after statementTimeoutMs', async () => {
      // A client that never answers (a hung server or a dead link that TCP has not noticed yet).
      const silent = new MySqlTableLockBackend({
        client: { query: () => new Promise(() => undefined) },
        statementTimeoutMs: 150,
      });
      const startedAt = performance.now();
      await expect(silent.getLock('contract:silent', 'me').tryLock()).rejects.toBeInstanceOf(LockUnavailableError);
      expect(performance.now() - startedAt).toBeLessThan(1000);
      await silent.close();
    });

    it('the sweeper deletes a dead holder’s expired row, and only expired rows', async () => {
      await locks.getLockIn('mysql-table', 'contract:sweep:dead').lock({ leaseTime: 100 });
      const live = await locks.getLockIn('mysql-table', 'contract:sweep:live').lock({ leaseTime: 10_000 });
      await sleep(250);
      expect(await table.sweepExpired()).toBeGreaterThanOrEqual(1);
      const [rows] = (await pool.query(`SELECT name FROM ${TABLE} WHERE name LIKE 'contract:sweep:%'`)) as unknown as [
        { name: string }[],
      ];
      expect(rows.map((row) => row.name)).toEqual(['contract:sweep:live']);
      await live.unlock();
    });
  });
});
