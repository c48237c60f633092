import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { RedisServer } from '../../../scripts/stack/redis';
import { assertLockPackageBuilt, LOCK_PACKAGE, PROJECT_ROOT } from '../../support/lock-package';
import { startTestRedis, testDir } from '../../support/shared-stack';

const run = promisify(execFile);

/**
 * A consumer of the published package, in plain CommonJS: only `@seckill/lock`, its Nest entry and
 * ioredis are resolvable from here. Contends for one lock with a racy read-modify-write on a Redis
 * counter (lost updates unless the lock excludes) and reports its fencing tokens.
 */
const CONSUMER_JS = `
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

/** The same, typed: compiled against the package's declarations only (strict). */
const CONSUMER_TS = `
import { LockService, type LockServiceOptions, type LockHandle, LockLostError, LuaScript } from '@seckill/lock';
import { LockModule, DistributedLock, LOCK_EXECUTOR, type LockModuleOptions } from '@seckill/lock/nest';
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
void [critical, moduleOptions, script, LockModule, DistributedLock, LOCK_EXECUTOR, LockLostError];
`;

describe('The lock library as a package (dist-lock, its public entries only)', () => {
  let server: RedisServer;
  let consumer: string;

  beforeAll(async () => {
    assertLockPackageBuilt();
    server = await startTestRedis('redis-package');
    // The package copied (not linked: its requires must resolve from here), its peers linked.
    consumer = testDir('lock-package-consumer');
    const modules = join(consumer, 'node_modules');
    cpSync(LOCK_PACKAGE, join(modules, '@seckill', 'lock'), { recursive: true });
    mkdirSync(join(modules, '@nestjs'), { recursive: true });
    for (const peer of ['ioredis', '@nestjs/common', 'reflect-metadata', '@types/node']) {
      mkdirSync(join(modules, peer, '..'), { recursive: true });
      symlinkSync(join(PROJECT_ROOT, 'node_modules', peer), join(modules, peer));
    }
    writeFileSync(join(consumer, 'consumer.js'), CONSUMER_JS);
    writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_TS);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('ships no reference outside itself: no require of the app, no .lua asset to find', () => {
    const files = readdirSync(LOCK_PACKAGE, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.js'),
    );
    expect(files).toEqual(expect.arrayContaining(['index.js', 'nest.js']));
    const required = new Set<string>();
    for (const file of files) {
      for (const [, specifier] of readFileSync(join(LOCK_PACKAGE, file), 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        required.add(specifier.startsWith('.') ? resolve(join(LOCK_PACKAGE, file, '..'), specifier) : specifier);
      }
    }
    const outside = [...required].filter(
      (specifier) =>
        !specifier.startsWith(LOCK_PACKAGE) && !specifier.startsWith('node:') && specifier !== '@nestjs/common',
    );
    expect(outside).toEqual([]);
    expect(
      readdirSync(LOCK_PACKAGE, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.lua')),
    ).toEqual([]);
  });

  it('excludes across two consumer processes through the public entry, with increasing fencing tokens', async () => {
    const rounds = 10;
    const outputs = await Promise.all(
      ['consumer-a', 'consumer-b'].map((id) =>
        run(process.execPath, ['consumer.js', server.url, id, String(rounds)], { cwd: consumer, timeout: 60_000 }),
      ),
    );
    const results = outputs.map(({ stdout }) => JSON.parse(stdout) as { tokens: number[]; timeout: string });
    const redis = new Redis(server.url);
    try {
      // 2 processes × 8 tasks × 10 rounds of an unprotected read-modify-write: no update lost.
      expect(Number(await redis.get('package:counter'))).toBe(2 * 8 * rounds);
    } finally {
      redis.disconnect();
    }
    const all = results.flatMap((result) => result.tokens);
    expect(new Set(all).size).toBe(all.length);
    for (const { tokens, timeout } of results) {
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      expect(timeout).toBe('LockTimeoutError');
    }
  });

  it('type-checks a strict TypeScript consumer against its declarations (core and Nest entries)', async () => {
    await expect(
      run(
        process.execPath,
        [
          join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--esModuleInterop',
          '--module',
          'node16',
          '--moduleResolution',
          'node16',
          '--target',
          'es2022',
          '--types',
          'node',
          'consumer.ts',
        ],
        { cwd: consumer, timeout: 60_000 },
      ),
    ).resolves.toBeDefined();
  });
});
