import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../scripts/stack/local-stack';
import { createTestDatabase, testDir } from './shared-stack';

/** Replicas (real child processes) behind real nginx, on a fresh database of the shared MariaDB. */
export async function startTestCluster(options: LocalStackOptions = {}): Promise<LocalStack & { url: string }> {
  const stack = await startLocalStack({
    replicas: 3,
    mysqlUrl: await createTestDatabase('e2e'),
    root: testDir('cluster'),
    ...options,
  });
  return { ...stack, url: stack.nginx!.url };
}
