import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toErrorResponse } from './error-mapping';

const logger = new Logger('AllExceptionsFilter');

/** Sends `{ code, message }` with the mapped status; unexpected errors are logged with their stack. */
export function replyWithError(reply: FastifyReply, exception: unknown): FastifyReply {
  const { status, body, unexpected, retryAfterSeconds } = toErrorResponse(exception);
  if (unexpected) {
    logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
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
