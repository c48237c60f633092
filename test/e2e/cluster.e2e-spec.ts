import { spawn } from 'node:child_process';
import { APP_ENTRY, PROJECT_ROOT } from '../../scripts/stack/app-replica';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { devToken, http } from '../support/http';
import { startTestCluster } from '../support/test-cluster';

describe('Cluster: 3 replicas behind nginx', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 3 });
  });
  afterAll(() => cluster?.stop());

  it('is ready through nginx and spreads requests over every replica', async () => {
    const served = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const result = await http(`GET`, `${cluster.url}/health/ready`);
      expect(result.status).toBe(200);
      const instance = result.headers.get('x-instance-id') ?? 'none';
      served.set(instance, (served.get(instance) ?? 0) + 1);
      expect(result.headers.get('x-upstream')).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    expect([...served.keys()].sort()).toEqual(['app-1', 'app-2', 'app-3']);
  });

  it('refuses an unauthenticated admin call and serves an admin', async () => {
    const anonymous = await http('GET', `${cluster.url}/admin/info`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'UNAUTHORIZED' });
    const admin = await http('GET', `${cluster.url}/admin/info`, { token: await devToken(cluster.url, '1', 'admin') });
    expect(admin.status).toBe(200);
  });

  it('shuts down on SIGTERM without being killed, and nginx keeps serving from the others', async () => {
    const victim = cluster.replicas[2];
    await victim.process.stop();
    // Nest's shutdown hooks re-raise the signal after closing, so the process ends by SIGTERM, not SIGKILL.
    expect(victim.process.exitStatus()).toEqual({ code: null, signal: 'SIGTERM' });
    for (let i = 0; i < 10; i++) {
      const result = await http('GET', `${cluster.url}/health/live`);
      expect(result.status).toBe(200);
      expect(result.headers.get('x-instance-id')).not.toBe('app-3');
    }
    await victim.process.start();
  });

  it('answers with a JSON 503 when no replica is reachable', async () => {
    await Promise.all(cluster.replicas.map((replica) => replica.process.stop()));
    const result = await http('GET', `${cluster.url}/health/live`);
    expect(result.status).toBe(503);
    expect(result.body).toEqual({ code: 'UPSTREAM_UNAVAILABLE', message: 'No application replica is available' });
  });
});

describe('Configuration', () => {
  it('fails fast, naming every bad key, when the environment is invalid', async () => {
    const child = spawn(process.execPath, [APP_ENTRY], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, PORT: 'http', REDIS_URL: 'localhost', AUTH_JWT_SECRET: 'short' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    for (const key of ['PORT', 'MYSQL_URL', 'REDIS_URL', 'AUTH_JWT_SECRET']) {
      expect(stderr).toContain(key);
    }
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
