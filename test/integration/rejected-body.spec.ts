import { connect, type AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * What a proxy that forwards the whole body before it reads the answer gets (issue 21): it writes
 * the request, body and all, and only then reads; resolves with the answer, or what went wrong.
 */
function sendWholeThenRead(port: number, head: string, bodyBytes: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      // A whole answer (the connection may stay open): headers, then content-length bytes.
      const length = Number(/content-length: (\d+)/i.exec(answer)?.[1] ?? -1);
      const bodyStart = answer.indexOf('\r\n\r\n') + 4;
      if (bodyStart >= 4 && length >= 0 && answer.length - bodyStart >= length) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', (error) => resolve(`${error.message} (answer so far: ${JSON.stringify(answer)})`));
    socket.on('close', () => resolve(answer));
    socket.write(head);
    socket.write(Buffer.alloc(bodyBytes, 'x'), () => socket.resume());
  });
}

describe('A request body the app rejects without reading it (a proxy without nginx’s body limit in front)', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t?.close());

  it.each([
    ['above BODY_LIMIT_BYTES (413)', 'application/json', 4_000_000, 413, 'PAYLOAD_TOO_LARGE'],
    ['not JSON (415)', 'text/plain', 4_000_000, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('reads and discards a body %s so the answer reaches the client', async (_name, type, bytes, status, code) => {
    const head = `POST /voucher HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${bytes}\r\n\r\n`;
    const answer = await sendWholeThenRead(port, head, bytes);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [\\s\\S]*"code":"${code}"`));
  });
});
