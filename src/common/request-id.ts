import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What a proxy's request id may look like to be taken as is (nginx's `$request_id`: 32 hex digits). */
const REQUEST_ID = /^[\w.-]{1,64}$/;

/** The request's id for logs: nginx's `X-Request-Id` when it is a sane token, else a fresh UUID. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const header = headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}
