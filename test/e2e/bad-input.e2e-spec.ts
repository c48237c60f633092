import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { LocalStack } from '../../scripts/stack/local-stack';
import { REQUIRED_ROLE_EXTENSION } from '../../src/auth/auth.decorators';
import { createSeckillVoucher, orderOnce, tokenFor } from '../support/flash-sale';
import { forgeToken, nowSeconds, unsignedToken } from '../support/jwt-forge';
import { rawRequest } from '../support/raw-request';
import { startTestCluster } from '../support/test-cluster';

/**
 * A generated bad-input suite through the project's nginx config: the cases come from the OpenAPI
 * document (every operation, its path parameters, its body schema and its security), mutated by
 * fast-check into requests that must be refused. Every answer must be a documented 4xx in the API's
 * `{code, message}` shape, no longer than MAX_ANSWER_BYTES — nginx's own answers included — and MySQL
 * and Redis must hold exactly what they held before.
 */

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as is (already serialised, possibly broken). */
  body?: string;
  /** Instead of fetch: bytes written to a socket (requests fetch refuses to send). */
  raw?: Buffer;
  /** Statuses the operation documents (any generic answer below is allowed too). */
  documented: Set<number>;
  /** The one status this case must get, where only one is right. */
  expected?: number;
}

/** Answers any route can give, documented in the README: malformed request or JSON, unknown route, nginx's limits. */
const GENERIC = new Set([400, 404, 413, 414, 415, 431]);
const SEED = 20261202;
/** No answer, nginx's or the app's, is longer than this: none repeats unbounded input. */
const MAX_ANSWER_BYTES = 4096;

/** Hand-made JWTs that must all be refused. */
function badTokens(): Record<string, string> {
  const sign = (claims: object, secret?: string) => forgeToken(claims, { secret });
  const now = nowSeconds();
  return {
    'forged signature': `${tokenFor('1', 'admin').slice(0, -4)}AAAA`,
    expired: sign({ sub: '1', role: 'admin', iat: now - 7200, exp: now - 3600 }),
    'alg none': unsignedToken({ sub: '1', role: 'admin', exp: now + 3600 }),
    'wrong key': sign(
      { sub: '1', role: 'admin', iat: now, exp: now + 3600 },
      'another-secret-of-at-least-32-characters!',
    ),
    'not a JWT': 'hello',
    'role not a role': sign({ sub: '1', role: 'root', iat: now, exp: now + 3600 }),
    'sub not an id': sign({ sub: 'abc', role: 'user', iat: now, exp: now + 3600 }),
    'sub above 2^63-1': sign({ sub: '9223372036854775808', role: 'admin', iat: now, exp: now + 3600 }),
    'no exp': sign({ sub: '1', role: 'admin', iat: now }),
    'exp in the year 9999': sign({ sub: '1', role: 'admin', iat: now, exp: 253_402_300_799 }),
    'lifetime above AUTH_MAX_TOKEN_TTL_S': sign({ sub: '1', role: 'admin', exp: now + 86_400 + 600 }),
  };
}

/** Path ids that are not ids: 64-bit overflow, signs, exponents, escapes, text. */
const badId = fc.oneof(
  fc.constantFrom(
    'abc',
    '-1',
    '0',
    '01',
    '1e999',
    '1.5',
    '9223372036854775808',
    '99999999999999999999999',
    '%20',
    '%zz',
    '%2e%2e',
    '1%00',
    '1;drop',
    '١٢٣',
    ' 1',
  ),
  fc.bigInt({ min: 2n ** 63n, max: 2n ** 80n }).map(String),
  fc.integer({ min: -1_000_000, max: 0 }).map(String),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((s) => !/^[1-9]\d{0,18}$/.test(s))
    .map(encodeURIComponent),
);

/**
 * Values of the wrong type for a field of the given schema type (never null for an optional one:
 * that means "absent"; never a string for a string field, nor a number for a number field, nor a
 * positive integer for an id string: `shopId` takes one by design).
 */
const wrongType = (type: string | undefined) =>
  type === 'string'
    ? fc.constantFrom<unknown>({}, [], true, -12345, -1.5, { $gt: 0 }, ['1'])
    : fc.constantFrom<unknown>({}, [], true, 'not-a-number', '', { $gt: 0 }, ['1']);

type Schema = {
  properties?: Record<string, { type?: string; example?: unknown; format?: string }>;
  required?: string[];
};

/** A valid body for a schema: its examples, with a sale window in the future. */
function validBody(schema: Schema): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (property.example !== undefined) {
      body[name] = property.example;
    }
  }
  if ('beginTime' in (schema.properties ?? {})) {
    body.beginTime = new Date(Date.now() + 3_600_000).toISOString();
    body.endTime = new Date(Date.now() + 7_200_000).toISOString();
  }
  return body;
}

/** One definite invalidation of a valid body (so no generated body is accidentally valid). */
function badBody(schema: Schema): fc.Arbitrary<string> {
  const valid = validBody(schema);
  const names = Object.keys(schema.properties ?? {});
  const required = schema.required ?? [];
  const numeric = names.filter((name) => typeof valid[name] === 'number');
  const dates = names.filter((name) => name.endsWith('Time'));
  const mutations: fc.Arbitrary<string>[] = [
    fc
      .constantFrom(...names)
      .chain((name) => wrongType(schema.properties?.[name]?.type).map((value) => ({ name, value })))
      .map(({ name, value }) => JSON.stringify({ ...valid, [name]: value })),
    fc.string({ minLength: 1, maxLength: 10 }).map((key) => JSON.stringify({ ...valid, [`extra_${key}`]: 1 })),
    fc
      .constantFrom('__proto__', 'constructor')
      .map(
        (key) =>
          `{${JSON.stringify(key)}:{"prototype":{"isAdmin":true},"polluted":true},${JSON.stringify(valid).slice(1)}`,
      ),
    fc.constantFrom('{', '{"shopId":', 'nul', '{"a":1}}', "{'single':1}", '\u0000', '[]', '"text"', '12'),
  ];
  if (required.length > 0) {
    mutations.push(
      fc.constantFrom(...required).map((name) => {
        const copy = { ...valid };
        delete copy[name];
        return JSON.stringify(copy);
      }),
    );
  }
  if (numeric.length > 0) {
    mutations.push(
      fc
        .record({
          name: fc.constantFrom(...numeric),
          value: fc.oneof(
            fc.constantFrom(-1, 1.5, 1e300, 2 ** 63, -(2 ** 63), 1e16),
            fc.integer({ max: -1 }),
            fc.double({ min: 1e13, noNaN: true }),
          ),
        })
        .map(({ name, value }) => JSON.stringify({ ...valid, [name]: value })),
    );
  }
  if (dates.length > 0) {
    mutations.push(
      fc
        .record({
          name: fc.constantFrom(...dates),
          value: fc.constantFrom(
            'not-a-date',
            '9999-12-31T23:59:59-01:00',
            '1999-12-31T23:59:59Z',
            '2026-13-01T00:00:00Z',
            '10000-01-01T00:00:00Z',
            '',
            12345,
          ),
        })
        .map(({ name, value }) => JSON.stringify({ ...valid, [name]: value })),
      // The window backwards.
      fc.constant(JSON.stringify({ ...valid, beginTime: valid.endTime, endTime: valid.beginTime })),
    );
  }
  return fc.oneof(...mutations);
}

function generateCases(document: OpenAPIObject, ids: { voucherId: string; otherUsersOrderId: string }): Case[] {
  const cases: Case[] = [];
  const tokens = badTokens();
  const admin = tokenFor('1', 'admin');
  const user = tokenFor('2');
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations as Record<string, Record<string, unknown>>)) {
      const documented = new Set(Object.keys(operation.responses as object).map(Number));
      const secured = Array.isArray(operation.security) && operation.security.length > 0;
      const schemaRef = (
        operation.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined
      )?.content?.['application/json']?.schema?.$ref;
      const schema = schemaRef ? (document.components!.schemas![schemaRef.split('/').pop()!] as Schema) : undefined;
      const params = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const fill = (value: (param: string) => string) =>
        template.replace(/\{(\w+)\}/g, (_, param: string) => value(param));
      const good = (param: string) => (param === 'name' ? 'some-lock' : param === 'shopId' ? '1' : ids.voucherId);
      const add = (name: string, request: Omit<Case, 'name' | 'method' | 'documented'>) =>
        cases.push({
          name: `${method.toUpperCase()} ${template}: ${name}`,
          method: method.toUpperCase(),
          documented,
          ...request,
        });
      const adminHeaders = { authorization: `Bearer ${admin}` };
      // Malformed path ids, with a token that would otherwise be allowed.
      for (const param of params.filter((p) => p !== 'name')) {
        for (const id of fc.sample(badId, { numRuns: 80, seed: SEED + cases.length })) {
          add(`${param}=${id}`, { path: fill((p) => (p === param ? id : good(p))), headers: adminHeaders });
        }
      }
      if (params.includes('name')) {
        for (const name of ['%20', 'a'.repeat(300), '%00', '{x}', 'x%zz']) {
          add(`lock name ${name.slice(0, 12)}`, {
            path: fill((p) => (p === 'name' ? name : good(p))),
            headers: adminHeaders,
          });
        }
      }
      const path = fill(good);
      if (secured) {
        add('no token', { path });
        for (const [kind, token] of Object.entries(tokens)) {
          add(`token: ${kind}`, { path, headers: { authorization: `Bearer ${token}` } });
        }
        add('scheme not Bearer', {
          path,
          headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
        });
        // Admin operations say so in the document (`@RequireRole` adds the extension).
        if (operation[REQUIRED_ROLE_EXTENSION] === 'admin') {
          add('a user token on an admin route', { path, headers: { authorization: `Bearer ${user}` } });
        }
      }
      if (schema) {
        const json = { ...adminHeaders, 'content-type': 'application/json' };
        for (const body of fc.sample(badBody(schema), { numRuns: 200, seed: SEED + cases.length })) {
          add(`body ${body.slice(0, 40)}`, { path, headers: json, body });
        }
        const valid = JSON.stringify(validBody(schema));
        for (const type of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/xml',
          'multipart/form-data',
        ]) {
          // A valid body under another media type: 415, never a validation error (the README's promise).
          add(`content type ${type}`, {
            path,
            headers: { ...adminHeaders, 'content-type': type },
            body: valid,
            expected: 415,
          });
        }
        add('oversized body', {
          path,
          headers: json,
          body: JSON.stringify({ ...validBody(schema), title: 'x'.repeat(40_000) }),
        });
        add('empty JSON body', { path, headers: json, body: '' });
      }
      add('oversized header', { path, headers: { ...adminHeaders, 'x-filler': 'y'.repeat(20_000) } });
    }
  }
  // Somebody else's order, and requests fetch would not send as written.
  cases.push({
    name: 'GET another user’s order',
    method: 'GET',
    path: `/voucher-order/${ids.otherUsersOrderId}`,
    headers: { authorization: `Bearer ${tokenFor('3')}` },
    documented: new Set([404]),
  });
  for (const raw of [
    'GET /voucher/\u0000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'GET /voucher/%zz%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    'POST /voucher HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n',
    'GARBAGE\r\n\r\n',
  ]) {
    cases.push({
      name: `raw ${JSON.stringify(raw.slice(0, 24))}`,
      method: 'RAW',
      path: '',
      raw: Buffer.from(raw, 'latin1'),
      documented: new Set(),
    });
  }
  return cases;
}

async function send(url: string, request: Case): Promise<{ status: number; body: string }> {
  if (request.raw) {
    return rawRequest(url, request.raw);
  }
  const response = await fetch(`${url}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, body: await response.text() };
}

/** What MySQL and Redis hold, comparable before and after. */
async function snapshot(cluster: LocalStack) {
  const db = await createConnection({ uri: cluster.mysqlUrl });
  const redis = new Redis(cluster.redis.url);
  try {
    const [checksums] = await db.query('CHECKSUM TABLE tb_voucher, tb_seckill_voucher, tb_voucher_order');
    const keys = (await redis.keys('*')).filter((key) => !key.startsWith('lock:')).sort();
    const values: Record<string, string> = {};
    for (const key of keys) {
      values[key] = ((await redis.dumpBuffer(key)) ?? Buffer.alloc(0)).toString('base64');
    }
    return { checksums, values };
  } finally {
    await db.end();
    redis.disconnect();
  }
}

describe('Generated bad input through nginx: a documented 4xx with a code for each, nothing changed', () => {
  let cluster: LocalStack & { url: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it('answers 1,000+ malformed requests over every route with documented 4xx codes and writes nothing', async () => {
    const voucherId = await createSeckillVoucher(cluster.url, 10);
    const order = await orderOnce(cluster.url, voucherId, '4');
    expect(order.status).toBe(201);
    const document = (await (await fetch(`${cluster.url}/docs-json`)).json()) as OpenAPIObject;
    const cases = generateCases(document, { voucherId, otherUsersOrderId: order.orderId! });
    expect(cases.length).toBeGreaterThanOrEqual(1000);
    const before = await snapshot(cluster);

    const wrong: { name: string; status: number; body: string }[] = [];
    const byStatus = new Map<number, number>();
    for (let i = 0; i < cases.length; i += 20) {
      await Promise.all(
        cases.slice(i, i + 20).map(async (request) => {
          const answer = await send(cluster.url, request);
          byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
          let parsed: { code?: unknown; message?: unknown } = {};
          try {
            parsed = JSON.parse(answer.body) as typeof parsed;
          } catch {
            // not JSON: refused below
          }
          const { code, message } = parsed;
          const allowed =
            request.expected !== undefined
              ? answer.status === request.expected
              : answer.status >= 400 &&
                answer.status < 500 &&
                (request.documented.has(answer.status) || GENERIC.has(answer.status));
          const shaped =
            typeof code === 'string' &&
            /^[A-Z][A-Z_]+$/.test(code) &&
            typeof message === 'string' &&
            Buffer.byteLength(answer.body) <= MAX_ANSWER_BYTES;
          if (!allowed || !shaped) {
            wrong.push({
              name: `${request.name} ${request.body ?? ''}`,
              status: answer.status,
              body: answer.body.slice(0, 200),
            });
          }
        }),
      );
    }
    process.stdout.write(
      `BAD INPUT ${cases.length} requests: ${[...byStatus]
        .sort()
        .map(([status, n]) => `${status}×${n}`)
        .join(' ')}\n`,
    );
    expect(wrong).toEqual([]);
    expect(await snapshot(cluster)).toEqual(before);
  });
});
