import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { InvalidInputError } from './domain-error';
import { toErrorResponse } from './error-mapping';

describe(toErrorResponse.name, () => {
  it('maps a domain error to its status and code', () => {
    expect(toErrorResponse(new InvalidInputError('INVALID_ID', 'Bad id'))).toEqual({
      status: 400,
      body: { code: 'INVALID_ID', message: 'Bad id' },
      unexpected: false,
    });
  });

  it('turns validation messages into VALIDATION_FAILED with details', () => {
    const { status, body } = toErrorResponse(new BadRequestException(['a must be a string', 'b should not exist']));
    expect(status).toBe(400);
    expect(body).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'The request is invalid',
      details: ['a must be a string', 'b should not exist'],
    });
  });

  it('gives plain HTTP exceptions a stable code', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /x')).body).toEqual({
      code: 'NOT_FOUND',
      message: 'Cannot GET /x',
    });
  });

  it('recognises Fastify JSON parse errors rethrown by Nest', () => {
    const parse = new HttpException("Body is not valid JSON but content-type is set to 'application/json'", 400);
    expect(toErrorResponse(parse).body.code).toBe('INVALID_JSON');
  });

  it('maps a 413 to PAYLOAD_TOO_LARGE', () => {
    expect(toErrorResponse(new HttpException('Request body is too large', 413)).body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('hides unknown errors behind an opaque 500', () => {
    const { status, body, unexpected } = toErrorResponse(new TypeError('secret internals'));
    expect(status).toBe(500);
    expect(body).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(unexpected).toBe(true);
  });
});
