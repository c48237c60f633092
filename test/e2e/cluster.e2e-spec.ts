import { spawn } from 'node:child_process';
import { APP_ENTRY, PROJECT_ROOT } from '../../scripts/stack/app-replica';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { devToken, http } from '../support/http';
import { rawRequest } from '../support/raw-request';
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

describe('Errors nginx answers itself', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 1 });
  });
  afterAll(() => cluster?.stop());

  it('carry the API’s JSON error shape and a code', async () => {
    const cases: [string, Buffer | string, number, string][] = [
      [
        'NUL byte in the path',
        Buffer.from('GET /voucher/\u0000x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'),
        400,
        'BAD_REQUEST',
      ],
      ['malformed request line', 'GARBAGE\r\n\r\n', 400, 'BAD_REQUEST'],
      [
        'URI too long',
        `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        414,
        'URI_TOO_LONG',
      ],
      [
        'header too large',
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
        431,
        'HEADERS_TOO_LARGE',
      ],
      [
        'body above nginx’s limit',
        `POST /voucher HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n`,
        413,
        'PAYLOAD_TOO_LARGE',
      ],
    ];
    const answers = [];
    for (const [name, request] of cases) {
      const answer = await rawRequest(cluster.url, request);
      let body: unknown = answer.body;
      try {
        body = JSON.parse(answer.body);
      } catch {
        // not JSON: the expectation below shows it
      }
      answers.push({ name, status: answer.status, body });
    }
    expect(answers).toEqual(
      cases.map(([name, , status, code]) => ({ name, status, body: { code, message: expect.any(String) } })),
    );
  });

  it('never turn a body the app rejects early into a 502 (nginx stops it at the app’s limit)', async () => {
    // Keep-alive clients, bodies above the app's BODY_LIMIT_BYTES (16 KiB) and unauthenticated ones:
    // the app would answer before reading them and close, racing nginx still writing the body.
    const big = JSON.stringify({ title: 'x'.repeat(64 * 1024) });
    const small = JSON.stringify({ title: 'x'.repeat(8 * 1024) });
    const statuses = new Map<string, number>();
    const send = async (url: string, body: string) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const code = ((await response.json().catch(() => ({}))) as { code?: string }).code;
      const key = `${response.status} ${code}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    };
    for (let round = 0; round < 40; round++) {
      await Promise.all([
        ...Array.from({ length: 10 }, () => send(`${cluster.url}/voucher`, big)),
        ...Array.from({ length: 10 }, () => send(`${cluster.url}/voucher-order/seckill/1`, small)),
      ]);
    }
    expect(Object.fromEntries(statuses)).toEqual({ '413 PAYLOAD_TOO_LARGE': 400, '401 UNAUTHORIZED': 400 });
  });

  it('leave the app’s own errors unchanged', async () => {
    const response = await http('GET', `${cluster.url}/voucher/abc`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_ID' });
  });
});
