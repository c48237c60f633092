import { connect } from 'node:net';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { REQUIRED_ROLE_EXTENSION } from '../../src/auth/auth.decorators';
import { createSeckillVoucher, orderOnce, tokenFor } from '../support/flash-sale';
import { http } from '../support/http';
import { forgeToken, nowSeconds, unsignedToken } from '../support/jwt-forge';
import { rawRequest } from '../support/raw-request';
import { startTestCluster } from '../support/test-cluster';

/**
 * The security probes of issue 25, each through nginx and straight to a replica (a Kubernetes
 * Service or a health checker reaches it so): what was fixed and what already held, so both stay
 * held. Bad input at large is the bad-input suite's; this one names each attack.
 */

/** No error answer is longer than this: none repeats unbounded input. */
const MAX_ANSWER_BYTES = 4096;
const SHAPE = { code: expect.stringMatching(/^[A-Z][A-Z_]+$/), message: expect.any(String) };

/** Claims that would be accepted, and every way of getting them wrong that must be refused. */
function forgedTokens(): Record<string, string> {
  const now = nowSeconds();
  const admin = { sub: '1', role: 'admin', iat: now, exp: now + 600 };
  const signed = (claims: object) => forgeToken({ ...admin, ...claims });
  const tokens: Record<string, string> = {
    'alg none': unsignedToken(admin, 'none'),
    'alg None': unsignedToken(admin, 'None'),
    'alg NONE': unsignedToken(admin, 'NONE'),
    'HS512 under the HS256 secret': forgeToken(admin, { alg: 'HS512' }),
    'wrong secret': forgeToken(admin, { secret: 'not-the-secret-but-long-enough-0123456789' }),
    expired: signed({ iat: now - 7200, exp: now - 60 }),
    'not valid yet (nbf)': signed({ nbf: now + 600 }),
    'no exp': forgeToken({ sub: '1', role: 'admin', iat: now }),
    'exp in the year 9999': signed({ exp: 253_402_300_799 }),
    'lifetime above AUTH_MAX_TOKEN_TTL_S': signed({ exp: now + 86_400 + 60 }),
    'no iat, exp beyond the bound': forgeToken({ sub: '1', role: 'admin', exp: now + 86_400 + 60 }),
    'iat in the future carrying a far exp': signed({ iat: now + 864_000, exp: now + 864_060 }),
  };
  for (const role of ['ADMIN', 'admin ', 'Admin', ['admin'], { admin: true }, null]) {
    tokens[`role ${JSON.stringify(role)}`] = signed({ role });
  }
  for (const sub of [
    '0',
    '-1',
    'abc',
    '1.5',
    '01',
    ' 1',
    '1e3',
    '9223372036854775808',
    '18446744073709551616',
    1,
    '',
  ]) {
    tokens[`sub ${JSON.stringify(sub)}`] = signed({ sub });
  }
  return tokens;
}

describe('Security probes through nginx and straight to a replica', () => {
  let cluster: LocalStack & { url: string };
  let targets: [string, string][];

  beforeAll(async () => {
    // Short connection bounds, so the idle-connection probe takes seconds, not a minute.
    cluster = await startTestCluster({
      replicas: 2,
      env: { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '4000' },
    });
    targets = [
      ['nginx', cluster.url],
      ['replica', cluster.replicas[0].url],
    ];
  });
  afterAll(() => cluster?.stop());

  it('refuses every forged, mis-signed, out-of-bounds or expired token with 401 UNAUTHORIZED', async () => {
    const wrong: unknown[] = [];
    for (const [target, url] of targets) {
      const genuine = await http('GET', `${url}/admin/info`, {
        token: forgeToken({ sub: '1', role: 'admin', exp: nowSeconds() + 600 }),
      });
      expect({ target, status: genuine.status }).toEqual({ target, status: 200 });
      for (const [kind, token] of Object.entries(forgedTokens())) {
        const answer = await http('GET', `${url}/admin/info`, { token });
        if (answer.status !== 401 || (answer.body as { code?: string }).code !== 'UNAUTHORIZED') {
          wrong.push({ target, kind, status: answer.status, body: answer.body });
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers a user token 403 FORBIDDEN on every admin route of the OpenAPI document', async () => {
    const document = (await (await fetch(`${cluster.url}/docs-json`)).json()) as OpenAPIObject;
    const adminRoutes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations as Record<string, Record<string, unknown>>)
        .filter(([, operation]) => operation[REQUIRED_ROLE_EXTENSION] === 'admin')
        .map(([method]) => ({ method: method.toUpperCase(), path })),
    );
    expect(adminRoutes).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/admin/info' },
        { method: 'DELETE', path: '/admin/locks/{name}' },
        { method: 'POST', path: '/voucher/seckill' },
      ]),
    );
    const user = tokenFor('2');
    const answers = [];
    for (const [target, url] of targets) {
      for (const { method, path } of adminRoutes) {
        const concrete = path.replace(/\{(\w+)\}/g, (_, param: string) => (param === 'name' ? 'some-lock' : '1'));
        const answer = await http(method, `${url}${concrete}`, { token: user });
        answers.push({ target, method, path, status: answer.status, body: answer.body });
      }
    }
    expect(answers).toEqual(
      answers.map(({ target, method, path }) => ({
        target,
        method,
        path,
        status: 403,
        body: { code: 'FORBIDDEN', message: expect.any(String) },
      })),
    );
  });

  it('answers another user’s order exactly as a missing one: 404 ORDER_NOT_FOUND', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 5);
    const order = await orderOnce(cluster.url, voucherId, '4001');
    expect(order.status).toBe(201);
    const missing = (BigInt(order.orderId!) - 1n).toString();
    const stranger = tokenFor('4002');
    for (const [target, url] of targets) {
      expect((await http('GET', `${url}/voucher-order/${order.orderId}`, { token: tokenFor('4001') })).status).toBe(
        200,
      );
      const [theirs, none] = await Promise.all(
        [order.orderId!, missing].map(async (id) => {
          const answer = await http('GET', `${url}/voucher-order/${id}`, { token: stranger });
          const headerNames = [...answer.headers.keys()].filter((name) => !['date', 'x-request-id'].includes(name));
          return { status: answer.status, body: JSON.stringify(answer.body).replace(id, '<id>'), headerNames };
        }),
      );
      expect({ target, ...theirs }).toEqual({ target, ...none });
      expect(theirs.status).toBe(404);
    }
  });

  it('keeps /metrics and readiness details off the public port: only each replica’s METRICS_PORT has them', async () => {
    for (const [target, url] of targets) {
      for (const path of ['/metrics', '/metrics/', '/%6detrics', '//metrics']) {
        const answer = await http('GET', `${url}${path}`);
        expect({ target, path, status: answer.status, body: answer.body }).toEqual({
          target,
          path,
          status: 404,
          body: { code: 'NOT_FOUND', message: expect.any(String) },
        });
      }
      expect((await http('GET', `${url}/health/ready`)).body).toEqual({ status: 'ok' });
      expect((await http('GET', `${url}/health/live`)).body).toEqual({ status: 'ok' });
    }
    for (const replica of cluster.replicas) {
      const metrics = await fetch(`${replica.metricsUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE http_requests_total counter');
      expect(await http('GET', `${replica.metricsUrl}/health/ready`)).toMatchObject({
        status: 200,
        body: { status: 'ok', details: { mysql: { status: 'up' }, redis: { status: 'up' } } },
      });
    }
  });

  it('answers what the framework refuses in the {code, message} shape, without echoing the input', async () => {
    const marker = 'ECHO-MARKER';
    const admin = tokenFor('1', 'admin');
    for (const [target, url] of targets) {
      const probes: [string, Promise<{ status: number; body: string }>, number, string][] = [
        ['bad percent-encoding', text('GET', `${url}/voucher/%zz${marker}`), 400, 'BAD_REQUEST'],
        ['2 KB path parameter', text('GET', `${url}/voucher/${marker}${'1'.repeat(2000)}`), 414, 'URI_TOO_LONG'],
        ['8 KB unknown path', text('GET', `${url}/${marker}/${'x'.repeat(8000)}`), 404, 'NOT_FOUND'],
        ['text/plain body', text('POST', `${url}/voucher`, admin, 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        [
          '100 KB path',
          rawRequest(url, `GET /${marker}${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
          // nginx refuses the request line itself; Node counts it with the headers.
          target === 'nginx' ? 414 : 431,
          target === 'nginx' ? 'URI_TOO_LONG' : 'HEADERS_TOO_LARGE',
        ],
      ];
      for (const [probe, answer, status, code] of probes) {
        const { status: got, body } = await answer;
        expect({ target, probe, status: got, body: JSON.parse(body) as unknown }).toEqual({
          target,
          probe,
          status,
          body: { ...SHAPE, code },
        });
        expect({ target, probe, echoed: body.includes('1'.repeat(300)) || body.includes('x'.repeat(300)) }).toEqual({
          target,
          probe,
          echoed: false,
        });
        expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
      }
    }
  });

  it('closes idle connections made straight to a replica within HTTP_HEADERS_TIMEOUT_MS', async () => {
    const { port } = new URL(cluster.replicas[0].url);
    const started = Date.now();
    const closedAfter = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<number>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1');
            socket.on('error', () => undefined);
            // Read (and drop) the 408 the server sends, or the server's FIN is never seen.
            socket.resume();
            socket.on('close', () => resolve(Date.now() - started));
          }),
      ),
    );
    // 2 s bound + Node's 1 s checking interval, with slack for a busy machine.
    expect(Math.max(...closedAfter)).toBeLessThan(8000);
  });
});

/** A request's status and raw body text (what the size bound is about). */
async function text(method: string, url: string, token?: string, contentType?: string) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    body: contentType ? JSON.stringify({ shopId: 1, title: 't', payValue: 1, actualValue: 2 }) : undefined,
  });
  return { status: response.status, body: await response.text() };
}
