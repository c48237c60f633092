import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * How much of a body the app answers without reading (413 above BODY_LIMIT_BYTES, 415 not JSON, an
 * early 401) it still reads and discards before the answer, and for how long.
 */
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 5000;

/**
 * Reads and discards, before the answer goes out, a request body the app rejected without reading
 * it. Fastify answers 413 with `connection: close`; closing a socket with unread bytes sends a TCP
 * reset, and a proxy that forwards the whole body before it reads the answer (one without nginx's
 * `client_max_body_size`: a Kubernetes ingress, a cloud load balancer) then sees a reset instead of
 * the 413 and answers 502. Up to `DRAIN_MAX_BYTES` (and `DRAIN_TIMEOUT_MS`) the answer therefore
 * always reaches the client; a larger body still gets the answer, then the connection is cut.
 */
export function installRejectedBodyDrain(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, _reply, payload, done) => {
    const raw = request.raw;
    if (!hasUnreadBody(raw)) {
      done(null, payload);
      return;
    }
    void drain(raw).then(() => done(null, payload));
  });
}

function hasUnreadBody(raw: IncomingMessage): boolean {
  if (raw.complete || raw.readableEnded || raw.destroyed || raw.readableFlowing) {
    return false;
  }
  const length = Number(raw.headers['content-length'] ?? 0);
  return length > 0 || raw.headers['transfer-encoding'] !== undefined;
}

function drain(raw: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let read = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', finish).off('error', finish).off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > DRAIN_MAX_BYTES) {
        raw.pause();
        finish();
      }
    };
    const timer = setTimeout(finish, DRAIN_TIMEOUT_MS);
    timer.unref();
    raw.on('data', onData).once('end', finish).once('error', finish).once('close', finish);
    raw.resume();
  });
}
