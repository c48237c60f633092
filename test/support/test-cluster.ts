import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../scripts/stack/local-stack';
import { createTestDatabase, testDir } from './shared-stack';

/** Replicas (real child processes) behind real nginx, on a fresh database of the shared MariaDB. */
export async function startTestCluster(options: LocalStackOptions = {}): Promise<LocalStack & { url: string }> {
  const { env, ...rest } = options;
  const stack = await startLocalStack({
    replicas: 3,
    mysqlUrl: await createTestDatabase('e2e'),
    root: testDir('cluster'),
    ...rest,
    // The suite's sales fire many requests per user at once on purpose; the rate limit has its own tests.
    env: { RATE_LIMIT_USER_PER_SECOND: '0', ...env },
  });
  return { ...stack, url: stack.nginx!.url };
}
