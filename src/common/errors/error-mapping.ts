import { HttpException, HttpStatus } from '@nestjs/common';
import { IdSequenceExhaustedError, IdWorkerUnavailableError } from '../../id-worker/id-worker.errors';
import {
  InvalidLockKeyError,
  LockLostError,
  LockNotHeldError,
  LockTimeoutError,
  LockUnavailableError,
  StaleFencingTokenError,
} from '@seckill/lock';
import { isDatabaseUnavailable } from '../../database/database-errors';
import { isRedisUnavailable } from '../../redis/redis-errors';
import { DomainError } from './domain-error';
import { ErrorBody } from './error-body';
import { fastifyErrorResponse, isFastifyError } from './fastify-errors';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Errors of the library layers (lock, ID, Redis), which know nothing of HTTP, and their HTTP meaning.
 * Checked in order with instanceof.
 */
const infrastructureErrors: [ErrorClass, number, string][] = [
  [LockTimeoutError, 409, 'LOCK_TIMEOUT'],
  [LockNotHeldError, 409, 'LOCK_NOT_HELD'],
  [StaleFencingTokenError, 409, 'STALE_FENCING_TOKEN'],
  [InvalidLockKeyError, 400, 'INVALID_LOCK_KEY'],
  [LockLostError, 503, 'LOCK_LOST'],
  [LockUnavailableError, 503, 'LOCK_UNAVAILABLE'],
  [IdSequenceExhaustedError, 503, 'ID_SEQUENCE_EXHAUSTED'],
  [IdWorkerUnavailableError, 503, 'ID_UNAVAILABLE'],
];

const statusCodes: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'SERVICE_UNAVAILABLE',
};

/** Longest message and most `details` an answer carries: a message may quote input (a path, a field name). */
const MAX_MESSAGE_CHARS = 200;
const MAX_DETAILS = 20;

const clip = (text: string) => (text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text);

/** The body with its message and details bounded, so no answer repeats unbounded input (a 16 KiB path, 1,000 unknown fields). */
function bounded(body: ErrorBody): ErrorBody {
  const clipped = { ...body, message: clip(body.message) };
  if (body.details) {
    const details = [...new Set(body.details)].map(clip);
    clipped.details =
      details.length > MAX_DETAILS
        ? [...details.slice(0, MAX_DETAILS), `… and ${details.length - MAX_DETAILS} more`]
        : details;
  }
  return clipped;
}

function httpExceptionBody(exception: HttpException): ErrorBody {
  const status = exception.getStatus();
  const response = exception.getResponse();
  const message =
    typeof response === 'object' && response !== null && 'message' in response ? response.message : exception.message;
  if (Array.isArray(message)) {
    return { code: 'VALIDATION_FAILED', message: 'The request is invalid', details: message.map(String) };
  }
  // Nest rethrows Fastify's body-parser errors as plain HttpExceptions; only the message tells them apart.
  if (status === 400 && typeof message === 'string' && message.startsWith('Body is not valid JSON')) {
    return { code: 'INVALID_JSON', message: 'The request body is not valid JSON' };
  }
  const code =
    typeof response === 'object' && response !== null && 'code' in response && typeof response.code === 'string'
      ? response.code
      : (statusCodes[status] ?? HttpStatus[status] ?? 'ERROR');
  return { code, message: String(message) };
}

interface ErrorResponseParts {
  status: number;
  body: ErrorBody;
  unexpected: boolean;
  retryAfterSeconds?: number;
}

/** Turns anything thrown into a status and a bounded `ErrorBody`; unknown errors become an opaque 500. */
export function toErrorResponse(exception: unknown): ErrorResponseParts {
  const response = mapError(exception);
  return { ...response, body: bounded(response.body) };
}

function mapError(exception: unknown): ErrorResponseParts {
  if (exception instanceof DomainError) {
    return {
      status: exception.status,
      body: { code: exception.code, message: exception.message, ...exception.extra },
      unexpected: false,
      retryAfterSeconds: exception.retryAfterSeconds,
    };
  }
  if (exception instanceof HttpException) {
    return { status: exception.getStatus(), body: httpExceptionBody(exception), unexpected: false };
  }
  // Refused by Fastify's router before any route ran (frameworkErrors in main.ts).
  const framework = isFastifyError(exception) ? fastifyErrorResponse(exception) : undefined;
  if (framework) {
    return { ...framework, unexpected: false };
  }
  const mapped = infrastructureErrors.find(([errorClass]) => exception instanceof errorClass);
  if (mapped) {
    const [, status, code] = mapped;
    return { status, body: { code, message: (exception as Error).message }, unexpected: false };
  }
  if (isDatabaseUnavailable(exception)) {
    return {
      status: 503,
      body: { code: 'DATABASE_UNAVAILABLE', message: 'The database is unavailable; try again shortly' },
      unexpected: false,
      retryAfterSeconds: 1,
    };
  }
  if (isRedisUnavailable(exception)) {
    return {
      status: 503,
      body: { code: 'REDIS_UNAVAILABLE', message: 'Redis is unavailable; try again shortly' },
      unexpected: false,
      retryAfterSeconds: 1,
    };
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'Internal server error' }, unexpected: true };
}
