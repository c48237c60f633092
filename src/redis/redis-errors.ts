/**
 * Errors ioredis raises when Redis cannot be reached or did not answer in time (as opposed to a
 * Redis reply error such as a script bug, which is a programming error and stays a 500).
 */
const UNAVAILABLE_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
  'LOADING',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'READONLY',
];
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  const { code, name } = error as Error & { code?: string };
  if (name === 'MaxRetriesPerRequestError' || (code !== undefined && UNAVAILABLE_CODES.has(code))) {
    return true;
  }
  return UNAVAILABLE_MESSAGES.some((message) => error.message.startsWith(message));
}
