import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toErrorResponse } from './error-mapping';

const logger = new Logger('AllExceptionsFilter');

/**
 * Sends `{ code, message }` with the mapped status. Unexpected errors are logged with their stack,
 * the request id (nginx's X-Request-Id), the route and the user — never a header value.
 */
export function replyWithError(reply: FastifyReply, exception: unknown): FastifyReply {
  const { status, body, unexpected, retryAfterSeconds } = toErrorResponse(exception);
  if (unexpected) {
    const request = reply.request as (typeof reply.request & { user?: { id: string } }) | undefined;
    logger.error(
      {
        requestId: request?.id,
        method: request?.method,
        route: request?.routeOptions?.url,
        userId: request?.user?.id,
        err:
          exception instanceof Error
            ? { type: exception.name, message: exception.message, stack: exception.stack }
            : String(exception),
      },
      'Unexpected error: answered 500',
    );
  }
  if (retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(retryAfterSeconds));
  }
  return reply.status(status).send(body);
}

/** The one place where errors become HTTP responses (with `replyWithError` for the native sale route). */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    void replyWithError(host.switchToHttp().getResponse<FastifyReply>(), exception);
  }
}
