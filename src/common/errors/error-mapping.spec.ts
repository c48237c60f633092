import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { InvalidInputError } from './domain-error';
import { toErrorResponse } from './error-mapping';

describe(toErrorResponse.name, () => {
  it('maps a domain error to its status and code', () => {
    expect(toErrorResponse(new InvalidInputError('INVALID_ID', 'Bad id'))).toEqual({
      status: 400,
      body: { code: 'INVALID_ID', message: 'Bad id' },
      unexpected: false,
      retryAfterSeconds: undefined,
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

  it('answers Fastify’s router errors with stable codes and fixed messages, never the path', () => {
    const fastify = (code: string, statusCode: number, message: string) =>
      Object.assign(new Error(message), { code, statusCode });
    expect(toErrorResponse(fastify('FST_ERR_BAD_URL', 400, "'/voucher/%zz' is not a valid url component"))).toEqual({
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'The request URL is malformed (bad percent-encoding)' },
      unexpected: false,
    });
    const long = toErrorResponse(fastify('FST_ERR_MAX_PARAM_LENGTH', 414, `'/${'a'.repeat(8000)}' is too long`));
    expect(long).toMatchObject({ status: 414, body: { code: 'URI_TOO_LONG' } });
    expect(long.body.message).not.toContain('aaa');
  });

  it('bounds messages and details: no answer repeats unbounded input', () => {
    const { body } = toErrorResponse(new NotFoundException(`Cannot GET /${'x'.repeat(10_000)}`));
    expect(body.message.length).toBeLessThanOrEqual(200);
    const many = Array.from({ length: 500 }, (_, i) => `property f${i} should not exist`);
    const validation = toErrorResponse(new BadRequestException([...many, ...many])).body;
    expect(validation.details).toHaveLength(21);
    expect(validation.details?.[20]).toBe('… and 480 more');
  });

  it('hides unknown errors behind an opaque 500', () => {
    const { status, body, unexpected } = toErrorResponse(new TypeError('secret internals'));
    expect(status).toBe(500);
    expect(body).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(unexpected).toBe(true);
  });

  it('maps Redis and MySQL being unreachable or timing out to 503s with codes and Retry-After', () => {
    const cases: [unknown, string][] = [
      [new Error('Command timed out'), 'REDIS_UNAVAILABLE'],
      [
        Object.assign(new Error('Reached the max retries per request limit (which is 2).'), {
          name: 'MaxRetriesPerRequestError',
        }),
        'REDIS_UNAVAILABLE',
      ],
      [new Error('Connection is closed.'), 'REDIS_UNAVAILABLE'],
      [
        // mysql2 marks connection-level errors fatal.
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), {
          code: 'ECONNREFUSED',
          errno: -111,
          fatal: true,
        }),
        'DATABASE_UNAVAILABLE',
      ],
      // The same socket error from ioredis (no mysql2 marker) is Redis'.
      [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', errno: -111 }),
        'REDIS_UNAVAILABLE',
      ],
      [
        { message: 'Query failed', driverError: { code: 'PROTOCOL_CONNECTION_LOST', fatal: true } },
        'DATABASE_UNAVAILABLE',
      ],
      [
        Object.assign(new Error('Lock wait timeout exceeded'), { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }),
        'DATABASE_UNAVAILABLE',
      ],
      [new Error('Pool is closed.'), 'DATABASE_UNAVAILABLE'],
      // Redis refusing writes (every admission writes its rate-limit bucket).
      [new Error("OOM command not allowed when used memory > 'maxmemory'."), 'REDIS_UNAVAILABLE'],
      [new Error('MISCONF Errors writing to the AOF file: No space left on device'), 'REDIS_UNAVAILABLE'],
      [new Error('NOREPLICAS Not enough good replicas to write.'), 'REDIS_UNAVAILABLE'],
      [new Error('BUSY Redis is busy running a script.'), 'REDIS_UNAVAILABLE'],
      [
        new Error('ERR Error running script (call to f_1): @user_script:9: -OOM command not allowed'),
        'REDIS_UNAVAILABLE',
      ],
    ];
    for (const [error, code] of cases) {
      expect(toErrorResponse(error)).toMatchObject({
        status: 503,
        body: { code },
        unexpected: false,
        retryAfterSeconds: 1,
      });
    }
    // A script bug is still a programming error.
    expect(toErrorResponse(new Error('ERR Error running script')).status).toBe(500);
  });
});
