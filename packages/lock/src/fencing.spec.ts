import { assertFencedWrite, fencedUpdate, StaleFencingTokenError } from './fencing';

describe(fencedUpdate.name, () => {
  it('guards the row with fence < token and records the token', () => {
    expect(
      fencedUpdate({ table: 'doc', key: { column: 'id', value: 7 }, set: { value: 'x', owner: 'a' }, token: 42 }),
    ).toEqual({
      sql: 'UPDATE `doc` SET `value` = ?, `owner` = ?, `fence` = ? WHERE `id` = ? AND `fence` < ?',
      params: ['x', 'a', 42, 7, 42],
    });
  });

  it('refuses identifiers that could inject SQL', () => {
    expect(() =>
      fencedUpdate({ table: 'doc; DROP', key: { column: 'id', value: 1 }, set: { v: 1 }, token: 1 }),
    ).toThrow('Not a safe SQL identifier');
  });
});

describe(assertFencedWrite.name, () => {
  it('throws StaleFencingTokenError when no row changed', () => {
    expect(() => assertFencedWrite(0, { table: 'doc', token: 5 })).toThrow(StaleFencingTokenError);
    expect(() => assertFencedWrite(1, { table: 'doc', token: 5 })).not.toThrow();
  });
});
