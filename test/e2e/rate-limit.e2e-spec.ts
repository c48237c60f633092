import { request } from 'node:http';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { createSeckillVoucher, tokenFor } from '../support/flash-sale';
import { startTestCluster } from '../support/test-cluster';

interface Answer {
  status: number;
  code?: string;
  retryAfter?: string;
}

/** POST an order from a chosen loopback source address (all of 127.0.0.0/8 is this host). */
function orderFrom(options: {
  url: string;
  voucherId: string;
  userId: string;
  from: string;
  headers?: Record<string, string>;
}) {
  return new Promise<Answer>((resolve, reject) => {
    const target = new URL(`${options.url}/voucher-order/seckill/${options.voucherId}`);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress: options.from,
        headers: { authorization: `Bearer ${tokenFor(options.userId)}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            code: (JSON.parse(body) as { code?: string }).code,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const tally = (answers: Answer[]) => {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = `${answer.status} ${answer.code ?? ''}`.trim();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

describe('Rate limiting across 3 replicas behind nginx (buckets in Redis)', () => {
  let cluster: LocalStack & { url: string };
  const USER_BURST = 5;
  const IP_BURST = 20;

  beforeAll(async () => {
    cluster = await startTestCluster({
      replicas: 3,
      env: {
        RATE_LIMIT_USER_PER_SECOND: '1',
        RATE_LIMIT_USER_BURST: String(USER_BURST),
        RATE_LIMIT_IP_PER_SECOND: '1',
        RATE_LIMIT_IP_BURST: String(IP_BURST),
      },
    });
  });
  afterAll(() => cluster?.stop());

  it('lets one user firing 200 requests at once through at most the burst, whichever replica answers; others are unaffected', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 1000);
    const started = Date.now();
    const scalper = await Promise.all(
      Array.from({ length: 200 }, () => orderFrom({ url: cluster.url, voucherId, userId: '666', from: '127.0.0.2' })),
    );
    const seconds = (Date.now() - started) / 1000;
    const passed = scalper.filter((answer) => answer.status !== 429);
    // The burst plus what the bucket refilled (1/s) while the 200 were answered.
    expect(passed.length).toBeGreaterThanOrEqual(1);
    expect(passed.length).toBeLessThanOrEqual(USER_BURST + Math.ceil(seconds));
    // Of those, one order; the rest are the user's repeats.
    expect(tally(passed)).toEqual({ '201': 1, '409 ALREADY_ORDERED': passed.length - 1 });
    for (const refused of scalper.filter((answer) => answer.status === 429)) {
      expect(refused.code).toBe('RATE_LIMITED');
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Other users (from other addresses) order as usual meanwhile.
    const others = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        orderFrom({ url: cluster.url, voucherId, userId: String(700 + i), from: `127.0.1.${i + 1}` }),
      ),
    );
    expect(tally(others)).toEqual({ '201': 10 });
  });

  it('limits one client address across users, and a forged X-Real-IP does not get around it', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 1000);
    const started = Date.now();
    // 60 different users from one address, each claiming another address: nginx overwrites the header.
    const crowd = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        orderFrom({
          url: cluster.url,
          voucherId,
          userId: String(2000 + i),
          from: '127.0.0.3',
          headers: { 'x-real-ip': `198.51.100.${i + 1}`, 'x-forwarded-for': `198.51.100.${i + 1}` },
        }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const passed = crowd.filter((answer) => answer.status === 201);
    expect(passed.length).toBeGreaterThanOrEqual(1);
    expect(passed.length).toBeLessThanOrEqual(IP_BURST + Math.ceil(seconds));
    expect(tally(crowd)).toEqual({ '201': passed.length, '429 RATE_LIMITED': 60 - passed.length });
    // Another address is unaffected.
    expect((await orderFrom({ url: cluster.url, voucherId, userId: '3000', from: '127.0.0.4' })).status).toBe(201);
  });
});
