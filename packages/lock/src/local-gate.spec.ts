import { LocalGate } from './local-gate';

describe(LocalGate.name, () => {
  it('lets the first owner in at once and queues the next ones in order', async () => {
    const gate = new LocalGate();
    expect(gate.enter('k', 'a', 0)).toBe(true);
    const order: string[] = [];
    const b = Promise.resolve(gate.enter('k', 'b', 1000)).then((ok) => ok && order.push('b'));
    const c = Promise.resolve(gate.enter('k', 'c', 1000)).then((ok) => ok && order.push('c'));
    expect(gate.queued('k')).toBe(2);
    gate.leave('k', 'a');
    await b;
    gate.leave('k', 'b');
    await c;
    expect(order).toEqual(['b', 'c']);
  });

  it('refuses at once with a zero timeout and gives up after a timeout', async () => {
    jest.useFakeTimers();
    try {
      const gate = new LocalGate();
      expect(gate.enter('k', 'a', 0)).toBe(true);
      expect(gate.enter('k', 'b', 0)).toBe(false);
      const waiting = gate.enter('k', 'c', 100);
      jest.advanceTimersByTime(100);
      await expect(waiting).resolves.toBe(false);
      expect(gate.queued('k')).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ignores a leave by an owner that is not the holder', () => {
    const gate = new LocalGate();
    expect(gate.enter('k', 'a', 0)).toBe(true);
    gate.leave('k', 'intruder');
    expect(gate.enter('k', 'b', 0)).toBe(false);
  });
});
