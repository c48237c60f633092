/** The JSON body of every error response. */
export interface ErrorBody {
  /** Stable, machine-readable, SCREAMING_SNAKE_CASE. */
  code: string;
  /** Human-readable, sentence case; never a stack trace. */
  message: string;
  /** Per-field problems, for validation errors. */
  details?: string[];
}
