/**
 * An expected business outcome with a stable machine-readable `code` and the HTTP status it
 * maps to. Subclasses set `name = X.name` so logs name the class.
 */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Sent as `Retry-After` (seconds) when set: the condition is expected to pass. */
  readonly retryAfterSeconds?: number;
  /** Fields added to the error body beside `code` and `message` (e.g. the existing `orderId`, the order's state). */
  extra?: Record<string, unknown>;

  constructor(message: string) {
    // Expected outcomes (sold out, already ordered) are answered thousands of times a second and
    // never logged with a stack: skip capturing one.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** A request that names something malformed (an id that is not an id, say). */
export class InvalidInputError extends DomainError {
  override readonly name = InvalidInputError.name;
  readonly status = 400;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ResourceNotFoundError extends DomainError {
  override readonly name = ResourceNotFoundError.name;
  readonly status = 404;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
