import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { assertPackageBuilt, PACKAGE_ROOT } from './support/built-package';
import { CONSUMER_JS, CONSUMER_TS } from './support/package-consumers';
import { REPO_ROOT, startTestRedis, testDir, type RedisServer } from './support/repo';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
/** Strict TypeScript with Node's own module rules, as a consumer of the published package compiles. */
const TSC_CONSUMER = ['--strict', '--skipLibCheck', '--module', 'node16', '--moduleResolution', 'node16'];
const TSC_TARGET = ['--target', 'es2022', '--types', 'node'];

/** The ```ts blocks of the package's README; the first is the example a new user copies first. */
function readmeExamples(): string[] {
  const blocks = [...readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)];
  if (blocks.length === 0) {
    throw new Error('README.md has no ```ts example');
  }
  return blocks.map((block) => block[1]);
}

describe('The lock library as a package (npm pack, installed into an empty project)', () => {
  let server: RedisServer;
  let consumer: string;
  let installed: string;
  let packed: string[];
  let examples: string[];

  beforeAll(async () => {
    assertPackageBuilt();
    server = await startTestRedis('redis-package');
    consumer = testDir('lock-package-consumer');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', consumer], {
      cwd: PACKAGE_ROOT,
      timeout: 120_000,
    });
    const [tarball] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    packed = tarball.files.map((file) => file.path);
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
    );
    // The package has no dependencies and only optional peers: the install needs no registry.
    await run(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', join(consumer, tarball.filename)],
      { cwd: consumer, timeout: 120_000 },
    );
    installed = join(consumer, 'node_modules', '@seckill', 'lock');
    // The peers a user would install, linked from the repository (after the install, which prunes).
    for (const peer of ['ioredis', '@nestjs/common', 'reflect-metadata', '@types/node']) {
      mkdirSync(join(consumer, 'node_modules', peer, '..'), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules', peer), join(consumer, 'node_modules', peer));
    }
    examples = readmeExamples().map((source, index) => {
      const file = index === 0 ? 'example.ts' : `example-${index}.ts`;
      writeFileSync(join(consumer, file), source);
      return file;
    });
    writeFileSync(join(consumer, 'consumer.js'), CONSUMER_JS);
    writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_TS);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('packs the build, the README and the LICENSE, and neither sources nor tests', () => {
    expect(packed).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']),
    );
    expect(packed.filter((file) => !file.startsWith('dist/') && !file.includes('/'))).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE']),
    );
    expect(packed.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((file) => file.startsWith('test/') || file.includes('.spec.'))).toEqual([]);
  });

  it('ships no reference outside itself: no require of the app, no .lua asset to find', () => {
    const files = readdirSync(installed, { recursive: true, encoding: 'utf8' });
    const js = files.filter((file) => file.endsWith('.js'));
    for (const entry of ['index', 'nest', 'mysql', 'zookeeper', 'lua']) {
      expect(js).toContain(`dist/${entry}.js`);
    }
    const required = new Set<string>();
    for (const file of js) {
      for (const [, specifier] of readFileSync(join(installed, file), 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        required.add(specifier.startsWith('.') ? resolve(join(installed, file, '..'), specifier) : specifier);
      }
    }
    const outside = [...required].filter(
      (specifier) =>
        !specifier.startsWith(installed) && !specifier.startsWith('node:') && specifier !== '@nestjs/common',
    );
    expect(outside).toEqual([]);
    expect(files.filter((file) => file.endsWith('.lua'))).toEqual([]);
  });

  it('exports from its root what a Redis user needs; backends and low-level pieces only from their subpaths', async () => {
    const script = `const entries = {};
      for (const entry of ['', '/nest', '/mysql', '/zookeeper', '/lua']) {
        entries[entry || '.'] = Object.keys(require('@seckill/lock' + entry)).sort();
      }
      process.stdout.write(JSON.stringify(entries));`;
    const { stdout } = await run('node', ['-e', script], { cwd: consumer, timeout: 30_000 });
    const entries = JSON.parse(stdout) as Record<string, string[]>;
    expect(entries['.']).toEqual(
      [
        'InvalidLockKeyError',
        'InvalidLockOptionError',
        'LocalLockService',
        'LockError',
        'LockInsideTransactionError',
        'LockLostError',
        'LockNotHeldError',
        'LockNotReplicatedError',
        'LockService',
        'LockTimeoutError',
        'LockUnavailableError',
        'REDIS_BACKEND',
        'StaleFencingTokenError',
        'assertFencedWrite',
        'fencedUpdate',
      ].sort(),
    );
    expect(entries['/nest']).toEqual(['DistributedLock', 'LOCK_EXECUTOR', 'LOCK_TRANSACTION_BRIDGE', 'LockModule']);
    expect(entries['/mysql']).toEqual(['MySqlNamedLockBackend', 'MySqlRowLockBackend', 'MySqlTableLockBackend']);
    expect(entries['/zookeeper']).toEqual(['ZooKeeperLockBackend']);
    expect(entries['/lua']).toEqual(['LuaScript', 'MAX_DURATION_MS']);
  });

  it("compiles the README's examples (strict) and runs the first to its end: it takes the lock and exits", async () => {
    await run(process.execPath, [TSC, ...TSC_CONSUMER, ...TSC_TARGET, ...examples], {
      cwd: consumer,
      timeout: 60_000,
    });
    // A process that does not exit by itself (connections left open) fails here by the timeout.
    const { stdout } = await run(process.execPath, ['example.js'], {
      cwd: consumer,
      timeout: 20_000,
      env: { ...process.env, REDIS_URL: server.url },
    });
    expect(stdout).toMatch(/^order:42 held with fencing token \d+; lost: false$/m);
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

  it('type-checks a strict TypeScript consumer against the declarations of every entry', async () => {
    await expect(
      run(process.execPath, [TSC, '--noEmit', '--esModuleInterop', ...TSC_CONSUMER, ...TSC_TARGET, 'consumer.ts'], {
        cwd: consumer,
        timeout: 60_000,
      }),
    ).resolves.toBeDefined();
  });
});
