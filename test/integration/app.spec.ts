import { MODULE_METADATA } from '@nestjs/common/constants';
import type { Provider } from '@nestjs/common';
import { LockService } from '@seckill/lock';
import { AsyncOrderModule } from '../../src/order/async/async-order.module';
import { ASYNC_ORDERS } from '../../src/order/async-orders';
import { AsyncOrderService } from '../../src/order/async/async-order.service';
import { OrderService } from '../../src/order/order.service';
import { SALE_PUBLISH_HOOK } from '../../src/voucher/sale-publish.hook';
import { sampleOf } from '../support/metrics-text';
import { startTestApp, TestApp } from '../support/test-app';

describe('App (real MariaDB + Redis)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  describe('modules', () => {
    it("creates none of the asynchronous path's providers in sync mode (the default)", () => {
      expect(t.app.get(OrderService, { strict: false })).toBeInstanceOf(OrderService);
      // Every provider AsyncOrderModule declares (read from its metadata, so a new one is covered too).
      const asyncOnly = (Reflect.getMetadata(MODULE_METADATA.PROVIDERS, AsyncOrderModule) as Provider[]).map(
        (provider) => (typeof provider === 'function' ? provider : provider.provide),
      );
      expect(asyncOnly).toEqual(expect.arrayContaining([AsyncOrderService, ASYNC_ORDERS, SALE_PUBLISH_HOOK]));
      expect(asyncOnly.length).toBeGreaterThan(20);
      for (const provider of asyncOnly) {
        expect(() => {
          t.app.get(provider, { strict: false });
        }).toThrow();
      }
    });
  });

  describe('health', () => {
    it('is live and ready with MySQL and Redis up, naming the dependencies only on the internal port', async () => {
      const live = await t.app.inject({ method: 'GET', url: '/health/live' });
      expect({ status: live.statusCode, body: live.json() }).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
      expect({ status: ready.statusCode, body: ready.json() }).toEqual({ status: 200, body: { status: 'ok' } });
      const internal = await t.internal('/health/ready');
      expect(internal.status).toBe(200);
      expect(JSON.parse(internal.body)).toMatchObject({
        status: 'ok',
        details: { mysql: { status: 'up' }, redis: { status: 'up' } },
      });
    });

    it('serves no /metrics on the public port', async () => {
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect({ status: metrics.statusCode, body: metrics.json() }).toEqual({
        status: 404,
        body: { code: 'NOT_FOUND', message: 'Cannot GET /metrics' },
      });
      expect((await t.internal('/nope')).status).toBe(404);
    });

    it('tags every response, errors included, with X-Instance-Id', async () => {
      const missing = await t.app.inject({ method: 'GET', url: '/no-such-route' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['x-instance-id']).toBe('test-app');
      expect(missing.json()).toEqual({ code: 'NOT_FOUND', message: 'Cannot GET /no-such-route' });
    });
  });

  describe('metrics', () => {
    it('exposes lock waits, wait timeouts and lost locks', async () => {
      const locks = t.app.get(LockService);
      const held = await locks.getLock('metrics-busy').tryLock();
      expect(await locks.getLock('metrics-busy').tryLock({ waitTime: 50 })).toBeNull();
      await held!.unlock();
      const metrics = await t.internal('/metrics');
      expect(metrics.status).toBe(200);
      const value = (name: string) =>
        Number(/^(\S+) (\S+)$/.exec(metrics.body.split('\n').find((line) => line.startsWith(`${name} `)) ?? '')?.[2]);
      expect(value('lock_wait_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(value('lock_wait_timeouts_total')).toBeGreaterThanOrEqual(1);
      expect(metrics.body).toContain('# TYPE lock_lost_total counter');
    });
  });

  describe('HTTP metrics', () => {
    const scrape = async () => (await t.internal('/metrics')).body;
    const sample = sampleOf;

    it('count requests by method, route template and status, native sale route included, with a latency histogram', async () => {
      const voucherId = await t.createSeckill(5);
      const sale = (labels: string) =>
        `http_requests_total{method="POST",route="/voucher-order/seckill/:id",status_code="${labels}"}`;
      const before = await scrape();
      expect((await t.order(voucherId, '501')).statusCode).toBe(201);
      expect((await t.order(voucherId, '501')).statusCode).toBe(409);
      expect((await t.app.inject({ method: 'GET', url: '/no-such-route/123' })).statusCode).toBe(404);
      const after = await scrape();
      expect(sample(after, sale('201')) - sample(before, sale('201'))).toBe(1);
      expect(sample(after, sale('409')) - sample(before, sale('409'))).toBe(1);
      const unmatched = 'http_requests_total{method="GET",route="unmatched",status_code="404"}';
      expect(sample(after, unmatched) - sample(before, unmatched)).toBe(1);
      // Templates only: an id never becomes a label value.
      expect(after).not.toContain(`/voucher-order/seckill/${voucherId}`);
      expect(after).not.toContain('/no-such-route');
      const count =
        'http_request_duration_seconds_count{method="POST",route="/voucher-order/seckill/:id",status_code="201"}';
      expect(sample(after, count) - sample(before, count)).toBe(1);
      expect(after).toContain('# TYPE http_request_duration_seconds histogram');
    });
  });

  describe('auth', () => {
    it('refuses admin routes without a token, with a user token, and serves them to admins', async () => {
      const anonymous = await t.app.inject({ method: 'GET', url: '/admin/info' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });

      const asUser = await t.app.inject({
        method: 'GET',
        url: '/admin/info',
        headers: { authorization: `Bearer ${await t.token('7')}` },
      });
      expect(asUser.statusCode).toBe(403);
      expect(asUser.json()).toMatchObject({ code: 'FORBIDDEN' });

      const asAdmin = await t.app.inject({
        method: 'GET',
        url: '/admin/info',
        headers: { authorization: `Bearer ${await t.token('1', 'admin')}` },
      });
      expect(asAdmin.statusCode).toBe(200);
      expect(asAdmin.json()).toMatchObject({ instanceId: 'test-app' });
    });

    it('lets an admin force-unlock a stuck lock, and maps bad lock names to 400', async () => {
      const admin = { authorization: `Bearer ${await t.token('1', 'admin')}` };
      const locks = t.app.get(LockService);
      await locks.getLock('stuck').tryLock();
      const released = await t.app.inject({ method: 'DELETE', url: '/admin/locks/stuck', headers: admin });
      expect(released.json()).toEqual({ released: true });
      expect(await locks.getLock('stuck').tryLock()).not.toBeNull();
      const invalid = await t.app.inject({ method: 'DELETE', url: '/admin/locks/a%7Bb%7D', headers: admin });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json()).toMatchObject({ code: 'INVALID_LOCK_KEY' });
    });

    it('rejects a forged token', async () => {
      const token = await t.token('1', 'user');
      const [header, , signature] = token.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ sub: '1', role: 'admin' })).toString('base64url');
      const response = await t.app.inject({
        method: 'GET',
        url: '/admin/info',
        headers: { authorization: `Bearer ${header}.${forgedPayload}.${signature}` },
      });
      expect(response.statusCode).toBe(401);
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON with 400 and a code', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/auth/dev-token',
        headers: { 'content-type': 'application/json' },
        payload: '{"userId":',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_JSON' });
    });

    it('rejects unknown fields and invalid values with VALIDATION_FAILED', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/auth/dev-token',
        payload: { userId: '-1', role: 'root', extra: true },
      });
      expect(response.statusCode).toBe(400);
      const body = response.json<{ code: string; details: string[] }>();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.details).toEqual(
        expect.arrayContaining([expect.stringContaining('extra'), expect.stringContaining('userId')]),
      );
    });

    it('answers an oversize body with 413 PAYLOAD_TOO_LARGE', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/auth/dev-token',
        payload: { userId: '1', role: 'user', pad: 'x'.repeat(64 * 1024) },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });
  });
});

describe('App with AUTH_DEV_TOKENS=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ AUTH_DEV_TOKENS: 'false' });
  });
  afterAll(() => t?.close());

  it('hides the dev-token route with 404, even for an invalid body', async () => {
    for (const payload of [{ userId: '1', role: 'admin' }, { nonsense: true }]) {
      const response = await t.app.inject({ method: 'POST', url: '/auth/dev-token', payload });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});
