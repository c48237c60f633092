import { InvalidConfigurationError, validateEnvironment } from './environment';

const valid = {
  MYSQL_URL: 'mysql://app:app@127.0.0.1:3306/seckill',
  REDIS_URL: 'redis://127.0.0.1:6379',
  AUTH_JWT_SECRET: 'x'.repeat(32),
};

describe(validateEnvironment.name, () => {
  it('applies defaults to a minimal valid environment', () => {
    const env = validateEnvironment(valid);
    expect(env.PORT).toBe(3000);
    expect(env.LOCK_MODE).toBe('redis');
    expect(env.AUTH_DEV_TOKENS).toBe(false);
    expect(env.REDIS_LOCK_NODES).toEqual(['redis://127.0.0.1:6379']);
    expect(env.INSTANCE_ID).toMatch(/-\d+$/);
  });

  it('parses numbers, booleans and node lists from strings', () => {
    const env = validateEnvironment({
      ...valid,
      PORT: '8080',
      AUTH_DEV_TOKENS: 'true',
      REDIS_LOCK_NODES: 'redis://a:1, redis://b:2,redis://c:3',
    });
    expect(env.PORT).toBe(8080);
    expect(env.AUTH_DEV_TOKENS).toBe(true);
    expect(env.REDIS_LOCK_NODES).toEqual(['redis://a:1', 'redis://b:2', 'redis://c:3']);
  });

  it('names every bad or missing key in one error', () => {
    let error: unknown;
    try {
      validateEnvironment({
        PORT: 'eighty',
        REDIS_URL: 'http://nope',
        LOCK_MODE: 'zookeeper',
        ORDER_MODE: 'eventually',
        ORDER_DURABILITY: 'hope',
        ORDER_BATCH_SIZE: '0',
        LOCK_WATCHDOG_TIMEOUT_MS: '1e20',
        SHUTDOWN_DRAIN_MS: String(2 ** 40),
        AUTH_JWT_SECRET: 'short',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidConfigurationError);
    const message = (error as Error).message;
    for (const key of [
      'PORT',
      'MYSQL_URL',
      'REDIS_URL',
      'LOCK_MODE',
      'ORDER_MODE',
      'ORDER_DURABILITY',
      'ORDER_BATCH_SIZE',
      'LOCK_WATCHDOG_TIMEOUT_MS',
      'SHUTDOWN_DRAIN_MS',
      'AUTH_JWT_SECRET',
    ]) {
      expect(message).toContain(key);
    }
  });

  it('takes a Redis Cluster instead of REDIS_URL, and still requires one of them', () => {
    const { REDIS_URL: _unused, ...withoutRedis } = valid;
    const env = validateEnvironment({
      ...withoutRedis,
      REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000',
    });
    expect(env.REDIS_CLUSTER_NODES).toEqual(['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000']);
    // MultiLock/RedLock then run on the cluster unless REDIS_LOCK_NODES names other nodes.
    expect(env.REDIS_LOCK_NODES).toEqual([]);
    expect(() => validateEnvironment(withoutRedis)).toThrow(/REDIS_URL/);
    expect(() => validateEnvironment({ ...withoutRedis, REDIS_CLUSTER_NODES: 'redis://a:1/0' })).toThrow(
      /REDIS_CLUSTER_NODES/,
    );
  });

  it('takes Redis Sentinels instead of REDIS_URL, not together with a cluster', () => {
    const { REDIS_URL: _unused, ...withoutRedis } = valid;
    const env = validateEnvironment({
      ...withoutRedis,
      REDIS_SENTINELS: 'redis://10.0.0.1:26379,redis://10.0.0.2:26379',
      REDIS_SENTINEL_NAME: 'sale-master',
      LOCK_REPLICA_SYNC: '1',
    });
    expect(env.REDIS_SENTINELS).toEqual(['redis://10.0.0.1:26379', 'redis://10.0.0.2:26379']);
    expect(env.REDIS_SENTINEL_NAME).toBe('sale-master');
    expect(env.LOCK_REPLICA_SYNC).toBe(1);
    expect(env.REDIS_LOCK_NODES).toEqual([]);
    expect(() =>
      validateEnvironment({ ...withoutRedis, REDIS_SENTINELS: 'redis://a:1', REDIS_CLUSTER_NODES: 'redis://b:2' }),
    ).toThrow(/not both/);
  });

  it('serves metrics on METRICS_PORT (9100 by default), never on the public PORT', () => {
    expect(validateEnvironment(valid).METRICS_PORT).toBe(9100);
    expect(validateEnvironment({ ...valid, METRICS_PORT: '3100' }).METRICS_PORT).toBe(3100);
    expect(() => validateEnvironment({ ...valid, PORT: '9100' })).toThrow(/METRICS_PORT must differ from PORT/);
    expect(() => validateEnvironment({ ...valid, METRICS_PORT: '0' })).toThrow(/METRICS_PORT/);
  });

  it('bounds connections with Node’s timeouts, headers within the request’s', () => {
    const env = validateEnvironment(valid);
    expect([env.HTTP_HEADERS_TIMEOUT_MS, env.HTTP_REQUEST_TIMEOUT_MS, env.HTTP_KEEP_ALIVE_TIMEOUT_MS]).toEqual([
      10_000, 30_000, 72_000,
    ]);
    expect(() => validateEnvironment({ ...valid, HTTP_HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS/,
    );
    expect(() => validateEnvironment({ ...valid, HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' })).toThrow(
      /HTTP_KEEP_ALIVE_TIMEOUT_MS/,
    );
  });

  it('ignores unrelated variables', () => {
    const env = validateEnvironment({ ...valid, PATH: '/bin' }) as unknown as Record<string, unknown>;
    expect(env.PATH).toBeUndefined();
  });
});
