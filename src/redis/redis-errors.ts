/**
 * Errors ioredis raises when Redis cannot be reached or did not answer in time (as opposed to a
 * Redis reply error such as a script bug, which is a programming error and stays a 500).
 */
const UNAVAILABLE_MESSAGES = [
  'Connection is closed',
  // A pipeline (auto-pipelining's included) in flight when the connection closed: outcome unknown.
  'Command aborted due to connection close',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
  'LOADING',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'READONLY',
  // Redis refuses writes: out of memory under noeviction, persistence failing, too few replicas, a
  // script running too long. Not the request's fault, and it passes: 503, not 500.
  'OOM',
  'MISCONF',
  'NOREPLICAS',
  'BUSY ',
  // Redis Cluster: the client has no slot map yet (it queues nothing), a slot is migrating or its
  // master failing over, or no node answers.
  "Cluster isn't ready",
  'Too many Cluster redirections',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  'TRYAGAIN',
  'MOVED',
  'ASK',
];
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  const { code, name } = error as Error & { code?: string };
  if (
    name === 'MaxRetriesPerRequestError' ||
    name === 'ClusterAllFailedError' ||
    (code !== undefined && UNAVAILABLE_CODES.has(code))
  ) {
    return true;
  }
  // Inside a script Redis 6 wraps the reply error: "ERR Error running script ... -OOM ...".
  const message = error.message.replace(/^ERR Error running script[^-]*-/, '');
  return UNAVAILABLE_MESSAGES.some((prefix) => error.message.startsWith(prefix) || message.startsWith(prefix));
}
