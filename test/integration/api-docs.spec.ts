import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/test-app';

type Operation = { responses: Record<string, { description?: string }> };

/** Every route Nest serves from a controller, as `METHOD /path/{param}` (excluded controllers left out). */
function controllerRoutes(t: TestApp): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  for (const wrapper of t.app.get(DiscoveryService, { strict: false }).getControllers()) {
    const metatype = wrapper.metatype as (new () => object) | null;
    if (!metatype || Reflect.getMetadata('swagger/apiExcludeController', metatype)) {
      continue;
    }
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    const prototype = metatype.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (
        name === 'constructor' ||
        typeof handler !== 'function' ||
        Reflect.getMetadata(PATH_METADATA, handler) === undefined
      ) {
        continue;
      }
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler));
      const method = ['get', 'post', 'put', 'delete', 'patch'][Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const path = `/${[base, sub].filter((part) => part && part !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      routes.push({ method, path });
    }
  }
  return routes;
}

describe('API documentation (/docs, /docs-json)', () => {
  let t: TestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    t = await startTestApp();
    document = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json<OpenAPIObject>();
  });
  afterAll(() => t?.close());

  it('serves the document at /docs-json and /docs/openapi.json, and a browsable UI at /docs', async () => {
    const legacy = await t.app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(legacy.json()).toEqual(document);
    const yaml = await t.app.inject({ method: 'GET', url: '/docs-yaml' });
    expect(yaml.headers['content-type']).toContain('yaml');
    expect(parse(yaml.body)).toEqual(document);
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    // Every asset the page loads is served.
    for (const src of [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1])) {
      const asset = await t.app.inject({ method: 'GET', url: src });
      expect({ src, status: asset.statusCode, bytes: asset.body.length > 100 }).toEqual({
        src,
        status: 200,
        bytes: true,
      });
    }
    const initializer = await t.app.inject({ method: 'GET', url: '/docs/swagger-initializer.js' });
    expect(initializer.body).toContain('"/docs-json"');
    expect((await t.app.inject({ method: 'GET', url: '/docs/nope.js' })).statusCode).toBe(404);
  });

  it('lists every controller route and the native sale route, each with its error codes', () => {
    const routes = controllerRoutes(t);
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const { method, path } of [...routes, { method: 'post', path: '/voucher-order/seckill/{id}' }]) {
      const operation = (document.paths[path] as Record<string, Operation> | undefined)?.[method];
      expect({ route: `${method} ${path}`, documented: operation !== undefined }).toEqual({
        route: `${method} ${path}`,
        documented: true,
      });
      if (path === '/health/live') {
        continue; // cannot fail: no dependency is checked
      }
      const errors = Object.keys(operation!.responses).filter((status) => Number(status) >= 400);
      expect({ route: `${method} ${path}`, hasErrors: errors.length > 0 }).toEqual({
        route: `${method} ${path}`,
        hasErrors: true,
      });
    }
  });

  it('names the sale route’s codes, the rate limit’s included', () => {
    const sale = (document.paths['/voucher-order/seckill/{id}'] as Record<string, Operation>).post.responses;
    const text = (status: string) => sale[status]?.description ?? '';
    expect(text('400')).toContain('INVALID_ID');
    expect(text('401')).toContain('UNAUTHORIZED');
    expect(text('404')).toContain('VOUCHER_NOT_FOUND');
    for (const code of ['NOT_STARTED', 'ENDED', 'SOLD_OUT', 'ALREADY_ORDERED']) {
      expect(text('409')).toContain(code);
    }
    expect(text('429')).toContain('RATE_LIMITED');
    for (const code of ['REDIS_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'ORDER_BACKLOG']) {
      expect(text('503')).toContain(code);
    }
    const admin = (document.paths['/admin/sales/{voucherId}'] as Record<string, Operation>).get.responses;
    expect(Object.keys(admin).sort()).toEqual(['200', '400', '401', '403', '404', '503']);
    expect(document.components?.schemas?.ErrorBody).toBeDefined();
  });
});
