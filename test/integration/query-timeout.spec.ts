import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * MYSQL_QUERY_TIMEOUT_MS: a statement MySQL does not answer in time fails, its connection is closed,
 * and the statements queued behind it on that connection fail at once instead of waiting for it.
 */
describe('MYSQL_QUERY_TIMEOUT_MS (in-process app, real MariaDB)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ MYSQL_QUERY_TIMEOUT_MS: '300' });
  });
  afterAll(() => t?.close());

  it('fails a slow statement and the ones queued behind it within the bound, then works on a fresh connection', async () => {
    const runner = t.app.get(DataSource).createQueryRunner();
    await runner.connect();
    const started = performance.now();
    const settled = (promise: Promise<unknown>) =>
      promise.then(
        () => ({ code: 'none', ms: performance.now() - started }),
        (error: { driverError?: { code?: string }; code?: string }) => ({
          code: error.driverError?.code ?? error.code,
          ms: performance.now() - started,
        }),
      );
    // Both on one connection: the second waits behind the first (mysql2 runs them in turn).
    const [slow, queued] = await Promise.all([
      settled(runner.query('SELECT SLEEP(3)')),
      settled(runner.query('SELECT 1')),
    ]);
    await runner.release();
    expect(slow.code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
    expect(queued.code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
    // Negative control: without failing the queued one, it would wait for SLEEP(3) to end.
    expect(slow.ms).toBeLessThan(1500);
    expect(queued.ms).toBeLessThan(1500);
    expect(await t.app.get(DataSource).query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
