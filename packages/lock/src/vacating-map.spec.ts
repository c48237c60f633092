import { VacatingMap } from './vacating-map';

describe(VacatingMap.name, () => {
  it('behaves like a map for get, set, delete, size and values', () => {
    const map = new VacatingMap<string, number>();
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    expect(map.size).toBe(2);
    map.delete('b');
    map.delete('b');
    map.delete('missing');
    expect(map.get('b')).toBeUndefined();
    expect(map.size).toBe(1);
    expect([...map.values()]).toEqual([3]);
    map.set('b', 4);
    expect(map.size).toBe(2);
    expect([...map.values()].sort()).toEqual([3, 4]);
  });

  it('sweeps vacated entries so memory follows the live keys', () => {
    const map = new VacatingMap<string, number>();
    const inner = (map as unknown as { map: Map<string, number | undefined> }).map;
    for (let i = 0; i < 10_000; i++) {
      map.set(`k${i}`, i);
      map.delete(`k${i}`);
    }
    expect(map.size).toBe(0);
    expect(inner.size).toBeLessThanOrEqual(1025);
  });
});
