/** The JSON body of every error response. */
export interface ErrorBody {
  /** Stable, machine-readable, SCREAMING_SNAKE_CASE. */
  code: string;
  /** Human-readable, sentence case; never a stack trace. */
  message: string;
  /** Per-field problems, for validation errors. */
  details?: string[];
  /** ALREADY_ORDERED: the caller's existing live order of this sale. */
  orderId?: string;
  /** A refused order transition (409): the order as it is now. */
  order?: unknown;
}
