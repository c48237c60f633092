import { startLocalStack } from './stack/local-stack';

/**
 * `npm run cluster -- --replicas 3 [--port 8080] [--lock-nodes 5] [--mode sync|async] [--redis-cluster | --redis-sentinel]`:
 * MariaDB, Redis (or with `--redis-cluster` a Redis Cluster of 3 masters + 3 replicas, with `--redis-sentinel` a master,
 * 2 replicas and 3 Sentinels), N replicas and nginx from locally installed binaries, in a temp folder. Ctrl-C stops
 * everything it started.
 */
function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`--${name} needs a whole number`);
  }
  return value;
}

function mode(): 'sync' | 'async' {
  const index = process.argv.indexOf('--mode');
  const value = index >= 0 ? process.argv[index + 1] : 'sync';
  if (value !== 'sync' && value !== 'async') {
    throw new Error('--mode is sync or async');
  }
  return value;
}

async function main(): Promise<void> {
  const replicas = option('replicas', 3);
  const orderMode = mode();
  const stack = await startLocalStack({
    replicas,
    lockNodes: option('lock-nodes', 0),
    redisCluster: process.argv.includes('--redis-cluster'),
    redisSentinel: process.argv.includes('--redis-sentinel'),
    nginxPort: option('port', 8080) || undefined,
    env: { LOG_LEVEL: 'info', ORDER_MODE: orderMode },
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    process.stdout.write('\nstopping…\n');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.stdout.write(
    [
      `seckill cluster up: ${replicas} replica(s) behind nginx, ORDER_MODE=${orderMode}`,
      `  URL        ${stack.nginx?.url ?? '(no replicas)'}`,
      `  OpenAPI    ${stack.nginx?.url ?? ''}/docs/openapi.json`,
      `  metrics    ${stack.replicas.map((replica) => `${replica.metricsUrl}/metrics`).join(' ') || '(no replicas)'} (internal port, not through nginx)`,
      `  MySQL      ${stack.mysqlUrl}`,
      stack.redisCluster
        ? `  Redis      Cluster of 3 masters + 3 replicas, seeds ${stack.redisCluster.urls.join(',')}`
        : stack.redisSentinel
          ? `  Redis      master ${stack.redis.url} + 2 replicas, Sentinels ${stack.redisSentinel.urls.join(',')}`
          : `  Redis      ${stack.redis.url}`,
      `  logs       ${stack.root}`,
      `  mint a token: curl -s -XPOST ${stack.nginx?.url ?? ''}/auth/dev-token -H 'content-type: application/json' -d '{"userId":"1","role":"admin"}'`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
