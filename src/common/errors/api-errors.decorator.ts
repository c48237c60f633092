import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse, ApiSchema } from '@nestjs/swagger';

/** The error body as the OpenAPI document shows it (see `ErrorBody`), under its published schema name. */
@ApiSchema({ name: 'ErrorBody' })
export class ErrorResponse {
  @ApiProperty({ description: 'Stable, machine-readable, SCREAMING_SNAKE_CASE' }) code: string;
  @ApiProperty({ description: 'Human-readable; never a stack trace' }) message: string;
  @ApiPropertyOptional({ type: [String], description: 'Per-field problems (VALIDATION_FAILED)' }) details?: string[];
}

/** Every error code a route documents, with the status it is answered with. */
const STATUS_OF = {
  INVALID_ID: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  INVALID_TIME_WINDOW: 400,
  INVALID_LOCK_KEY: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VOUCHER_NOT_FOUND: 404,
  ORDER_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  ORDER_NOT_PAYABLE: 409,
  ORDER_NOT_CANCELLABLE: 409,
  ORDER_NOT_USABLE: 409,
  ORDER_NOT_REFUNDABLE: 409,
  ORDER_PENDING: 409,
  REDIS_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
} as const;

export type DocumentedErrorCode = keyof typeof STATUS_OF;

/** Documents the error answers of a route: one response per status, listing its codes, with `ErrorResponse`. */
export function ApiErrors(...codes: DocumentedErrorCode[]): MethodDecorator {
  const byStatus = new Map<number, DocumentedErrorCode[]>();
  for (const code of codes) {
    byStatus.set(STATUS_OF[code], [...(byStatus.get(STATUS_OF[code]) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({ status, description: list.join(', '), type: ErrorResponse }),
    ),
  );
}
