/** More than 2^32-1 ids for one prefix in one day: the sequence would spill into the timestamp. */
export class IdSequenceExhaustedError extends Error {
  override readonly name = IdSequenceExhaustedError.name;
}

/** Redis could not be reached to draw a sequence number. */
export class IdWorkerUnavailableError extends Error {
  override readonly name = IdWorkerUnavailableError.name;
}
