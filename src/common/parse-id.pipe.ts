import { Injectable, PipeTransform } from '@nestjs/common';
import { InvalidInputError } from './errors/domain-error';

const MAX_ID = (1n << 63n) - 1n;
const DECIMAL_ID = /^[1-9]\d{0,18}$/;

/** True for a positive decimal integer string that fits a signed BIGINT. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_ID.test(value) && BigInt(value) <= MAX_ID;
}

/**
 * Path ids are positive decimal integers up to 2^63-1, kept as strings (they exceed 2^53).
 * Anything else (`abc`, `-1`, `1e999`, 30 digits) is a 400 `INVALID_ID`, before any I/O.
 */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return parseId(value);
  }
}

/** `value` if it is an id (see `isId`), else a 400 `INVALID_ID`. */
export function parseId(value: unknown): string {
  if (!isId(value)) {
    throw new InvalidInputError('INVALID_ID', `"${String(value).slice(0, 40)}" is not a valid id`);
  }
  return value;
}
