import { compileKeyTemplate, parameterNames } from './lock-key-template';
import { InvalidLockKeyError } from './lock.errors';

class Sample {
  placeOrder(userId: string, voucherId: string) {
    return [userId, voucherId];
  }
  withDto(dto: { userId: string; nested?: { id: number } }, _options = { retry: 1 }) {
    return dto;
  }
  destructured({ a }: { a: string }, ...rest: string[]) {
    return [a, rest];
  }
}

describe(parameterNames.name, () => {
  it('reads plain parameter names, ignoring defaults', () => {
    expect(parameterNames(Sample.prototype.placeOrder)).toEqual(['userId', 'voucherId']);
    expect(parameterNames(Sample.prototype.withDto)).toEqual(['dto', '_options']);
  });

  it('marks destructured parameters as unnamed and keeps rest names', () => {
    expect(parameterNames(Sample.prototype.destructured)).toEqual([null, 'rest']);
  });
});

describe(compileKeyTemplate.name, () => {
  it('fills placeholders by parameter name, property path and index', () => {
    const key = compileKeyTemplate('order:{userId}:{1}', ['userId', 'voucherId']);
    expect(key(['42', 7])).toBe('order:42:7');
    const nested = compileKeyTemplate('order:{dto.nested.id}:{0.userId}', ['dto']);
    expect(nested([{ userId: 'u1', nested: { id: 9 } }])).toBe('order:9:u1');
  });

  it('accepts bigint values', () => {
    expect(compileKeyTemplate('id:{id}', ['id'])([2n ** 60n])).toBe(`id:${2n ** 60n}`);
  });

  it('fails at decoration time for an unknown parameter', () => {
    expect(() => compileKeyTemplate('order:{user}', ['userId'])).toThrow('no parameter named "user"');
  });

  it('refuses missing, empty or brace-carrying values', () => {
    const key = compileKeyTemplate('order:{dto.userId}', ['dto']);
    for (const dto of [undefined, {}, { userId: '' }, { userId: 'a}b' }, { userId: { toString: () => 'x' } }]) {
      expect(() => key([dto])).toThrow(InvalidLockKeyError);
    }
  });
});
