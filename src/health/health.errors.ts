import { DomainError } from '../common/errors/domain-error';

/** Readiness is down; the body says no more than that (the metrics port has the details). */
export class NotReadyError extends DomainError {
  override readonly name = NotReadyError.name;
  readonly status = 503;
  // The code the terminus 503 was answered with before: the public contract stays.
  readonly code = 'SERVICE_UNAVAILABLE';
}
