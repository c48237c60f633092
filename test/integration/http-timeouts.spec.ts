import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { startTestApp, TestApp } from '../support/test-app';

/** A raw connection that records what it received and when the server closed it. */
function open(port: number): Promise<{ socket: Socket; closed: Promise<{ afterMs: number; reply: string }> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    const closed = new Promise<{ afterMs: number; reply: string }>((done) =>
      socket.on('close', () => done({ afterMs: Date.now() - started, reply })),
    );
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Writes `parts` one every `everyMs` until the socket closes. */
async function trickle(socket: Socket, parts: string[], everyMs: number): Promise<void> {
  for (const part of parts) {
    if (socket.destroyed || !socket.writable) {
      return;
    }
    socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const bodyOf = (reply: string) => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as unknown;

describe('Server timeouts for connections straight to a replica (real app, real socket)', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp({
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '1500',
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => t?.close());

  it('sets Node’s timeouts from the configuration', () => {
    const server: Server = t.app.getHttpServer();
    expect({
      headers: server.headersTimeout,
      request: server.requestTimeout,
      keepAlive: server.keepAliveTimeout,
    }).toEqual({ headers: 1000, request: 2000, keepAlive: 1500 });
  });

  it('closes a connection that never sends a request, within the headers timeout', async () => {
    const { closed } = await open(port);
    const { afterMs } = await closed;
    // The bound plus Node's checking interval (1 s here), with some slack for a busy machine.
    expect(afterMs).toBeLessThan(4000);
  });

  it('closes a connection whose headers trickle in, answering 408 REQUEST_TIMEOUT', async () => {
    const { socket, closed } = await open(port);
    const headers = [
      'GET /health/live HTTP/1.1\r\n',
      'Host: x\r\n',
      ...Array.from({ length: 40 }, (_, i) => `X-${i}: y\r\n`),
    ];
    void trickle(socket, headers, 200);
    const { afterMs, reply } = await closed;
    expect(afterMs).toBeLessThan(4000);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(reply)).toEqual({ code: 'REQUEST_TIMEOUT', message: expect.any(String) });
  });

  it('closes a connection whose body trickles in, within the request timeout', async () => {
    const { socket, closed } = await open(port);
    socket.write('POST /voucher HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
    void trickle(
      socket,
      Array.from({ length: 40 }, () => ' '),
      200,
    );
    const { afterMs, reply } = await closed;
    expect(afterMs).toBeLessThan(5000);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const { socket, closed } = await open(port);
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const { afterMs, reply } = await closed;
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(afterMs).toBeGreaterThanOrEqual(1400);
    expect(afterMs).toBeLessThan(4000);
  });
});
