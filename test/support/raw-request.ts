import { connect } from 'node:net';

/**
 * Sends raw bytes (requests fetch would refuse to send: NUL bytes, bad escapes, garbage) to the
 * server at `url` and returns the status and body of its answer.
 */
export async function rawRequest(url: string, request: Buffer | string): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    // Not half-closed: a client that hangs up early makes nginx skip its error page.
    socket.write(request);
  });
  const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(reply)?.[1] ?? 0);
  return { status, body: reply.slice(reply.indexOf('\r\n\r\n') + 4) };
}
