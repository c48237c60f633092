import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Keeps `npm run bench:lock` runnable (it is not part of the suite's timing: tiny slices, and no
 * speed is asserted). Its hot-key phase also fails loudly if any of the four locks ever lets two
 * holders in at once.
 */
describe('bench:lock (smoke run, no speed asserted)', () => {
  it('runs every contender through every scenario and prints the table and ratios', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(__dirname, '../../bench/lock.bench.ts')], {
      env: { ...process.env, BENCH_SLICES: '1', BENCH_SLICE_MS: '100', BENCH_DURATION_MS: '300' },
      timeout: 50_000,
    });
    for (const contender of ['ours', 'minimal', 'redis-semaphore', 'redlock']) {
      expect(stdout).toMatch(new RegExp(`^\\| [^|]*${contender}[^|]* \\| [\\d,]+ \\| [\\d,]+ \\| [\\d,]+ \\|`, 'm'));
    }
    expect(stdout).toMatch(/^Ratios: uncontended ours\/minimal c=1 [\d.]+×/m);
  });
});
