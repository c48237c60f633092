import { InvalidInputError } from './errors/domain-error';
import { ParseIdPipe } from './parse-id.pipe';

describe(ParseIdPipe.name, () => {
  const pipe = new ParseIdPipe();

  it('accepts positive decimal ids up to 2^63-1, unchanged', () => {
    for (const id of ['1', '42', '9007199254740993', '9223372036854775807']) {
      expect(pipe.transform(id)).toBe(id);
    }
  });

  it('rejects everything else with INVALID_ID', () => {
    for (const id of ['abc', '-1', '0', '01', '1e999', '1.5', ' 1', '9223372036854775808', '1'.repeat(30), '']) {
      expect(() => pipe.transform(id)).toThrow(InvalidInputError);
    }
  });
});
