import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_JWT_SECRET, type LocalStack } from '../../scripts/stack/local-stack';
import { createSeckillVoucher, orderOnce, tokenFor } from '../support/flash-sale';
import { devToken, http } from '../support/http';
import { startTestCluster } from '../support/test-cluster';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('Logs of a run: JSON access log in nginx, JSON app logs, no secret in any line', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    // debug: the app logs every request too (headers included, redacted) — the strictest case.
    cluster = await startTestCluster({ replicas: 2, env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(() => cluster?.stop());

  it('correlates a request across nginx and the app by X-Request-Id and never writes a token or the secret', async () => {
    const tokens = new Set<string>();
    const admin = await devToken(cluster.url, '1', 'admin');
    tokens.add(admin);
    const voucherId = await createSeckillVoucher(cluster.url, 5);
    const requestIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const token = tokenFor(String(500 + i));
      tokens.add(token);
      const response = await fetch(`${cluster.url}/voucher-order/seckill/${voucherId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      requestIds.push(response.headers.get('x-request-id') ?? '');
    }
    // Errors too: a forged token, a user on an admin route, a token in a query string.
    const forged = `${tokenFor('9')}x`;
    tokens.add(forged);
    expect((await orderOnce(cluster.url, voucherId, '9', forged)).status).toBe(401);
    expect((await http('GET', `${cluster.url}/admin/info`, { token: tokenFor('10') })).status).toBe(403);
    tokens.add(tokenFor('10'));
    expect((await http('GET', `${cluster.url}/voucher/${voucherId}?access_token=${tokenFor('11')}`)).status).toBe(200);
    tokens.add(tokenFor('11'));
    expect(requestIds.every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    await sleep(1500); // nginx flushes its buffered access log every second

    // nginx: one JSON object per request with its id, upstream, status and durations.
    const access = readFileSync(cluster.nginx!.accessLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const id of requestIds) {
      const line = access.find((entry) => entry.request_id === id);
      expect(line).toMatchObject({
        method: 'POST',
        uri: `/voucher-order/seckill/${voucherId}`,
        status: expect.any(Number),
        request_time: expect.any(Number),
        upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      });
    }
    // The app: JSON lines naming the replica, the same request ids on the requests' lines.
    const appLogs = cluster.replicas.map((replica) => readFileSync(replica.process.logFile, 'utf8')).join('\n');
    const appLines = appLogs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(appLines.length).toBeGreaterThan(10);
    expect(appLines.every((line) => typeof line.instance === 'string')).toBe(true);
    for (const id of requestIds) {
      expect(appLogs).toContain(id);
    }
    // No token, no secret, no Authorization value in any file of the run.
    for (const file of filesUnder(cluster.root).filter((path) => /\.(log|txt)$/.test(path))) {
      const text = readFileSync(file, 'utf8');
      for (const secret of [...tokens, DEV_JWT_SECRET]) {
        expect({ file, leaks: text.includes(secret) }).toEqual({ file, leaks: false });
      }
      expect({ file, bearer: /bearer\s+ey/i.test(text) }).toEqual({ file, bearer: false });
    }
  });
});
