import { connect } from 'node:net';
import { startTestApp, TestApp } from '../support/test-app';

/** Sends raw bytes to the listening app and returns status, headers and body of its answer. */
function raw(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    socket.on('close', () => {
      const split = reply.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0),
        head: reply.slice(0, split),
        body: reply.slice(split + 4),
      });
    });
    // The app may answer and close before it read everything we sent.
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.write(request);
  });
}

describe('Errors the framework raises, in the API’s {code, message} shape (real app, real socket)', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => t?.close());

  it('answers a bad percent-encoding 400 BAD_REQUEST without echoing the path', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/voucher/%zz-secret-looking-input' });
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'The request URL is malformed (bad percent-encoding)' },
    });
    expect(response.headers['x-instance-id']).toBe('test-app');
  });

  it('answers an over-long path parameter 414 URI_TOO_LONG without repeating it', async () => {
    const admin = { authorization: `Bearer ${await t.token('1', 'admin')}` };
    for (const url of [`/voucher/${'1'.repeat(8000)}`, `/admin/locks/${'a'.repeat(8000)}`]) {
      const response = await t.app.inject({ method: url.startsWith('/admin') ? 'DELETE' : 'GET', url, headers: admin });
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 414,
        body: { code: 'URI_TOO_LONG', message: expect.any(String) },
      });
      expect(response.body.length).toBeLessThan(200);
    }
  });

  it('bounds what an answer repeats: a long unknown path, a thousand unknown fields', async () => {
    const missing = await t.app.inject({ method: 'GET', url: `/nope/${'x'.repeat(8000)}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(missing.body.length).toBeLessThan(300);
    const fields = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, 1]));
    const invalid = await t.app.inject({
      method: 'POST',
      url: '/voucher',
      headers: { authorization: `Bearer ${await t.token('1', 'admin')}`, 'content-type': 'application/json' },
      payload: JSON.stringify(fields),
    });
    expect(invalid.statusCode).toBe(400);
    const body = invalid.json<{ code: string; details: string[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details.length).toBeLessThanOrEqual(21);
    expect(new Set(body.details).size).toBe(body.details.length);
    expect(invalid.body.length).toBeLessThan(4096);
  });

  it('answers a body that is not application/json 415 UNSUPPORTED_MEDIA_TYPE, on every route that takes one', async () => {
    const admin = `Bearer ${await t.token('1', 'admin')}`;
    const body = JSON.stringify({ shopId: 1, title: 't', payValue: 1, actualValue: 2 });
    for (const [url, contentType] of [
      ['/voucher', 'text/plain'],
      ['/voucher', 'text/plain; charset=utf-8'],
      ['/voucher', 'application/xml'],
      ['/voucher', 'application/x-www-form-urlencoded'],
      ['/voucher-order/seckill/1', 'text/plain'],
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url,
        headers: { authorization: admin, 'content-type': contentType },
        payload: body,
      });
      expect({ url, contentType, status: response.statusCode, body: response.json() }).toEqual({
        url,
        contentType,
        status: 415,
        body: { code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.any(String) },
      });
    }
  });

  it('answers what Node’s HTTP parser refuses — a 100 KB path, a malformed request — in the same shape', async () => {
    const huge = await raw(port, `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect({ status: huge.status, body: JSON.parse(huge.body) as unknown }).toEqual({
      status: 431,
      body: { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large' },
    });
    expect(huge.head).toMatch(/^X-Instance-Id: test-app$/im);
    const garbage = await raw(port, 'GARBAGE\r\n\r\n');
    expect({ status: garbage.status, body: JSON.parse(garbage.body) as unknown }).toEqual({
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'The request is malformed' },
    });
  });
});
