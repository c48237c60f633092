import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

const logger = new Logger('HTTP');

/**
 * At LOG_LEVEL debug/trace, one JSON line per answered request — Nest routes and the native sale
 * route alike — with nginx's request id, method, route template, path (no query string: it may carry
 * a token), status, duration and user. Never a header value. Off at info: a line per request costs
 * the sale path throughput, and nginx's access log has the same facts.
 */
export function installRequestLog(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    logger.debug(
      {
        requestId: request.id,
        method: request.method,
        route: request.routeOptions.url,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        userId: (request as { user?: { id: string } }).user?.id,
      },
      'request answered',
    );
    done();
  });
}
