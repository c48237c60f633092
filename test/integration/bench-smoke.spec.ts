import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The sale benches' tiny settings (one-second rows and warm-ups, few connections, fewer buyers). */
const TINY_SALE: NodeJS.ProcessEnv = {
  BENCH_DURATION_S: '1',
  BENCH_WARMUP_S: '1',
  BENCH_CONNECTIONS: '20',
  BENCH_USERS: '30000',
};

/** Runs `bench/<file>` as `npm run bench:*` does (tsx), with `env` over this process's; its stdout. */
async function runBench(file: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(__dirname, '../../bench', file)], {
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
  return stdout;
}

/**
 * Keeps `npm run bench:lock` runnable (it is not part of the suite's timing: tiny slices, and no
 * speed is asserted). Its hot-key phase also fails loudly if any of the four locks ever lets two
 * holders in at once.
 */
describe('bench:lock (smoke run, no speed asserted)', () => {
  it('runs every contender through every scenario and prints the table and ratios', async () => {
    const stdout = await runBench(
      'lock.bench.ts',
      { BENCH_SLICES: '1', BENCH_SLICE_MS: '100', BENCH_DURATION_MS: '300' },
      50_000,
    );
    for (const contender of ['ours', 'minimal', 'redis-semaphore', 'redlock']) {
      expect(stdout).toMatch(new RegExp(`^\\| [^|]*${contender}[^|]* \\| [\\d,]+ \\| [\\d,]+ \\| [\\d,]+ \\|`, 'm'));
    }
    expect(stdout).toMatch(/^Ratios: uncontended ours\/minimal c=1 [\d.]+×.*c=64 auto-pipelined [\d.]+×/m);
  });
});

/**
 * Keeps `npm run bench:seckill` runnable on tiny settings (no speed asserted). Its drain phase also
 * fails loudly unless every order of the backlog reaches MySQL with the stock at exactly 0.
 */
describe('bench:seckill (smoke run, no speed asserted)', () => {
  it('runs every row and prints the table, the drain and the ratios', async () => {
    const stdout = await runBench(
      'seckill.bench.ts',
      { ...TINY_SALE, BENCH_LIVE_STOCK: '300', BENCH_DRAIN: '2000', BENCH_HEADLINE_ROUNDS: '2' },
      170_000,
    );
    for (const row of [
      'no-op endpoint',
      'async sale, new buyer',
      'sync sale, new buyer',
      'sync sale, Redis appendfsync everysec',
      'sync sale, one',
      'sync sale, per-process lock',
      'live async sale',
    ]) {
      expect(stdout).toMatch(new RegExp(`^\\| ${row}[^|]* \\| [\\d,]+ \\|`, 'm'));
    }
    // The headline pair in interleaved rounds: a ratio per round, and each row's rounds.
    expect(stdout).toMatch(/^Sync\/async in 2 interleaved rounds: [\d.]+, [\d.]+; median [\d.]+×, lowest [\d.]+×\.$/m);
    expect(stdout).toMatch(/^sync sale, new buyer[^:]*: req\/s [\d,]+, [\d,]+; p99 ms/m);
    expect(stdout).toMatch(/^Drain: 2,000 accepted orders persisted by 3 replicas in [\d.]+ s/m);
    expect(stdout).toMatch(
      /^Ratios: async\/no-op [\d.]+×.*; sync on appendfsync everysec\/async [\d.]+×; sync with the per-process lock\/async [\d.]+×/m,
    );
    // Where the cores went: a CPU row per load row with a number in every process group's cell.
    expect(stdout).toMatch(/^\| async sale, new buyer[^|]*( \| [\d.]+){6} \| \d+ % \|$/m);
    expect(stdout).toMatch(/^CPU bound: the no-op costs the box \d+ µs a request/m);
    // Wake-ups and Redis commands per request: a number in every cell; the async sale asks Redis something.
    expect(stdout).toMatch(/^\| sync sale, new buyer[^|]*( \| [\d.]+){6} \|$/m);
    expect(stdout).toMatch(/^\| async sale, new buyer[^|]*( \| [\d.]+){4} \| (?!0\.00 )[\d.]+ \| [\d.]+ \|$/m);
  }, 180_000);
});

/** Keeps `npm run bench:seckill:pairs` runnable on tiny settings (no speed asserted). */
describe('bench:seckill:pairs (smoke run, no speed asserted)', () => {
  it('runs interleaved rounds of the sync and the async sale and prints the ratio per round', async () => {
    const stdout = await runBench('seckill-pairs.bench.ts', { ...TINY_SALE, BENCH_ROUNDS: '2' }, 110_000);
    for (const row of ['sync sale \\(201\\)', 'async sale \\(202\\)']) {
      expect(stdout).toMatch(new RegExp(`^\\| ${row} \\| [\\d,]+, [\\d,]+ \\| [\\d,]+ \\|( [\\d,]+ \\|){5}$`, 'm'));
    }
    expect(stdout).toMatch(/^Ratio sync sale \(201\) \/ async sale \(202\) per round: [\d.]+, [\d.]+; median [\d.]+×/m);
  }, 120_000);
});

/** Keeps `npm run bench:redis-topologies` runnable (tiny rows, no speed asserted, errors must be 0). */
describe('bench:redis-topologies (smoke run, no speed asserted)', () => {
  it('runs every row (one server, a 3-master cluster, a server with a replica and WAIT) and prints the ratios', async () => {
    const stdout = await runBench('redis-topologies.bench.ts', { BENCH_DURATION_MS: '300' }, 60_000);
    for (const row of [
      'admission, one server',
      'admission, 3-master cluster',
      'lock pair, one server',
      'lock pair, 3-master cluster',
      'admission + WAIT 1 (ORDER_DURABILITY=replicas)',
      'lock pair + replicaSync 1',
    ]) {
      const name = row.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(stdout).toMatch(new RegExp(`^\\| ${name} \\| [\\d,]+ \\| 0 \\|`, 'm'));
    }
    expect(stdout).toMatch(/^Ratios \(WAIT 1 \/ no WAIT, server with a replica\): admission ops\/s [\d.]+×/m);
    expect(stdout).toMatch(/^Ratios \(cluster \/ one server\): admission ops\/s [\d.]+×/m);
  });
});

/** Keeps `npm run bench:lifecycle` runnable (tiny rows, no speed asserted). */
describe('bench:lifecycle (smoke run, no speed asserted)', () => {
  it('runs the admission and pay rows and the expiry of a batch due at once', async () => {
    const stdout = await runBench(
      'lifecycle.bench.ts',
      { BENCH_DURATION_S: '1', BENCH_CONNECTIONS: '10', BENCH_EXPIRE: '2000' },
      110_000,
    );
    for (const row of ['async admission', 'pay']) {
      expect(stdout).toMatch(new RegExp(`^\\| ${row}[^|]* \\| [\\d,]+ \\|`, 'm'));
    }
    expect(stdout).toMatch(/^pay \/ admission: [\d.]+×/m);
    expect(stdout).toMatch(/^Expiry: 2,000 unpaid orders due at once .* every unit back in Redis/m);
  }, 120_000);
});
