/**
 * Consumers of the published package, written into an empty project by package.spec.ts, where only
 * `@seckill/lock` (installed from its tarball) and the peers ioredis and @nestjs/common resolve.
 */

/**
 * Plain CommonJS: contends for one lock with a racy read-modify-write on a Redis counter (lost updates
 * unless the lock excludes) and reports its fencing tokens.
 */
export const CONSUMER_JS = `
const { LockService, LockTimeoutError, LockError } = require('@seckill/lock');
const { Redis } = require('ioredis');
const [url, instanceId, rounds] = process.argv.slice(2);
(async () => {
  const node = new Redis(url);
  const subscriber = new Redis(url);
  const locks = new LockService({ instanceId, nodes: [node], subscriber });
  const tokens = [];
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = 0; i < Number(rounds); i++) {
      await locks.withLock('package:counter', { waitTime: 20000 }, async ({ fencingToken }) => {
        tokens.push(fencingToken);
        const value = Number(await node.get('package:counter'));
        await new Promise((r) => setTimeout(r, 1));
        await node.set('package:counter', String(value + 1));
      });
    }
  }));
  // A lock held elsewhere times out with the library's typed error.
  const held = locks.getLock('package:held:' + instanceId);
  await locks.withOwner(() => held.lock({ leaseTime: 5000 }));
  let timeout = '';
  await locks.withOwner(async () => {
    try { await locks.getLock('package:held:' + instanceId).lock({ waitTime: 50 }); } catch (error) {
      timeout = error instanceof LockTimeoutError && error instanceof LockError ? error.name : String(error);
    }
  });
  locks.close();
  node.disconnect();
  subscriber.disconnect();
  process.stdout.write(JSON.stringify({ tokens, timeout }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** Typed, compiled against the declarations of every entry only (strict). */
export const CONSUMER_TS = `
import { LockService, type LockServiceOptions, type LockHandle, LockLostError } from '@seckill/lock';
import { LockModule, DistributedLock, LOCK_EXECUTOR, type LockModuleOptions } from '@seckill/lock/nest';
import { MySqlTableLockBackend, type MySqlLockClient } from '@seckill/lock/mysql';
import { ZooKeeperLockBackend, type ZooKeeperLockClient } from '@seckill/lock/zookeeper';
import { LuaScript, MAX_DURATION_MS, type LockScriptClient, type LockRedisClient } from '@seckill/lock/lua';
import { Redis } from 'ioredis';

const redis = new Redis();
const options: LockServiceOptions = { instanceId: 'typed', nodes: [redis], subscriber: redis.duplicate() };
const locks = new LockService(options);
async function critical(): Promise<number> {
  const handle: LockHandle = await locks.getLock('typed').lock({ waitTime: 10 });
  try {
    return handle.fencingToken;
  } finally {
    await handle.unlock();
  }
}
const moduleOptions: LockModuleOptions = { instanceId: 'typed', nodes: [redis], mode: 'redis' };
const script = new LuaScript('one', 'return 1', 0);
const scriptClient: LockScriptClient = redis;
const node: LockRedisClient = redis;
const longest: number = MAX_DURATION_MS;
type Backends = [MySqlTableLockBackend, ZooKeeperLockBackend, MySqlLockClient, ZooKeeperLockClient];
void [critical, moduleOptions, script, scriptClient, node, longest, LockModule, DistributedLock, LOCK_EXECUTOR, LockLostError];
void (null as unknown as Backends);
`;
