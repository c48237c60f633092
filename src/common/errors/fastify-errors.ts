import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorBody } from './error-body';

/**
 * Answers for what Fastify and Node's HTTP parser refuse before any route runs: a fixed message per
 * status and a stable code (nginx answers the same conditions with the same codes), never the path
 * or a header, which can be kilobytes long.
 */
const FRAMEWORK_ANSWERS: Record<number, ErrorBody> = {
  400: { code: 'BAD_REQUEST', message: 'The request is malformed' },
  408: { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time' },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large' },
  414: { code: 'URI_TOO_LONG', message: 'The request URI or one of its path parameters is too long' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The request body must be application/json' },
  431: { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large' },
};

/** Fastify's own errors carry `code: 'FST_…'` and the status it would answer. */
interface FastifyError extends Error {
  code: string;
  statusCode?: number;
}

export function isFastifyError(error: unknown): error is FastifyError {
  return (
    error instanceof Error &&
    typeof (error as FastifyError).code === 'string' &&
    /^FST_/.test((error as FastifyError).code)
  );
}

/** The API's answer for a Fastify error (router: bad percent-encoding, over-long parameter; body parser). */
export function fastifyErrorResponse(error: FastifyError): { status: number; body: ErrorBody } | undefined {
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_BAD_URL') {
    return {
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'The request URL is malformed (bad percent-encoding)' },
    };
  }
  const body = FRAMEWORK_ANSWERS[status];
  return body ? { status, body } : undefined;
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the request (headers or request line
 * above 16 KiB → 431, a request that did not arrive within the timeouts → 408, anything malformed →
 * 400). Answered in the API's shape and the connection closed, as Node does.
 */
export function answerClientError(instanceId: string): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify(FRAMEWORK_ANSWERS[status]);
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Instance-Id: ${instanceId}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Not destroyed at once: a client still sending (a 100 KB path) would get a reset that can
    // discard the answer before it reads it. The rest of its request is read and dropped meanwhile.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}
