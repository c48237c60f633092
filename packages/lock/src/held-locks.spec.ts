import { LOCAL_HANDOVER_MAX_AGE_MS, type HeldLock } from './held-lock';
import { HeldLocks } from './held-locks';
import { LocalGate } from './local-gate';
import { lockKeys } from './lock-keys';
import { LOCAL_TOKENS } from './lua/local-tokens';

/** A hold's fields as only HeldLocks may write them: set here to build the states a rule must judge. */
const writable = (state: HeldLock) => state as { -readonly [K in keyof HeldLock]: HeldLock[K] };

describe(HeldLocks.name, () => {
  const keys = lockKeys('lock:', 'unit');
  const WATCHDOG_WAITER = { leaseMs: 0 };

  function holding(options: { leaseTime?: number; renewedMsAgo?: number } = {}) {
    const gate = new LocalGate();
    const holds = new HeldLocks({
      gate,
      watchdogTimeoutMs: 30_000,
      emitLost: () => undefined,
      watchdogNeeded: () => undefined,
      releaseOrphan: () => undefined,
    });
    expect(gate.enter(keys.lock, 'a', 0)).toBe(true);
    const state = holds.enter({
      gateId: keys.lock,
      node: 0,
      name: 'unit',
      keys,
      owner: 'a',
      sentAt: performance.now() - (options.renewedMsAgo ?? 0),
      fencingToken: 1000,
      holdCount: 1,
      leaseTime: options.leaseTime,
    });
    return { gate, holds, state };
  }

  it('hands a fresh watchdog hold to a watchdog waiter locally, with the next token and the same Redis field', async () => {
    const { gate, holds, state } = holding();
    const waiting = gate.enter(keys.lock, 'b', 1000);
    expect(holds.canHandOver(state, WATCHDOG_WAITER, 16)).toBe(true);
    const successor = holds.handOver(state, 'b');
    expect(successor).toMatchObject({
      owner: 'b',
      heldAs: 'a',
      fencingToken: 1001,
      redisToken: 1000,
      localHandovers: 1,
    });
    expect(holds.entry(keys.lock)).toBe(successor);
    expect(holds.carrierOf(state)).toBe(successor);
    expect(holds.carriedFor(keys.lock, 'a')).toBe(successor);
    await expect(waiting).resolves.toMatchObject({ fencingToken: 1001, carried: successor });
  });

  it('leaves to Redis a fixed lease, a fixed-lease waiter, a spent token reserve or burst, and a stale lease', () => {
    const fixed = holding({ leaseTime: 30_000 });
    expect(fixed.holds.canHandOver(fixed.state, WATCHDOG_WAITER, 16)).toBe(false);
    const fresh = holding();
    expect(fresh.holds.canHandOver(fresh.state, { leaseMs: 5000 }, 16)).toBe(false);
    expect(fresh.holds.canHandOver(fresh.state, WATCHDOG_WAITER, 0)).toBe(false);
    writable(fresh.state).localHandovers = LOCAL_TOKENS;
    expect(fresh.holds.canHandOver(fresh.state, WATCHDOG_WAITER, 64)).toBe(false);
    // Confirmed by Redis more than LOCAL_HANDOVER_MAX_AGE_MS ago: Redis must say whether it is still held.
    const stale = holding({ renewedMsAgo: LOCAL_HANDOVER_MAX_AGE_MS + 100 });
    expect(stale.holds.canHandOver(stale.state, WATCHDOG_WAITER, 16)).toBe(false);
    const recent = holding({ renewedMsAgo: LOCAL_HANDOVER_MAX_AGE_MS - 100 });
    expect(recent.holds.canHandOver(recent.state, WATCHDOG_WAITER, 16)).toBe(true);
    // A direct grant whose first lease (2 s) is not extended yet counts from the grant.
    const granted = holding({ renewedMsAgo: 30_000 - 2000 + 800 });
    writable(granted.state).awaitingRenewal = true;
    expect(granted.holds.canHandOver(granted.state, WATCHDOG_WAITER, 16)).toBe(true);
    writable(granted.state).lastRenewedAt -= 300;
    expect(granted.holds.canHandOver(granted.state, WATCHDOG_WAITER, 16)).toBe(false);
    // A short lease: half of it.
    const short = holding({ leaseTime: undefined, renewedMsAgo: 200 });
    writable(short.state).leaseMs = 300;
    expect(short.holds.canHandOver(short.state, WATCHDOG_WAITER, 16)).toBe(false);
  });

  it('is the only writer of a hold: the state everyone else gets is read-only (tsc checks this spec)', () => {
    const { state } = holding();
    const writeOutside = () => {
      // @ts-expect-error HeldLock is read-only outside held-locks.ts
      state.count = 2;
    };
    expect(writeOutside).toBeInstanceOf(Function);
    expect(state.count).toBe(1);
  });

  it('does not name a lost carried hold as carried (its field may be taken anew)', () => {
    const { gate, holds, state } = holding();
    void gate.enter(keys.lock, 'b', 1000);
    const successor = holds.handOver(state, 'b');
    holds.markLost(successor, 'expired-or-taken');
    expect(holds.carriedFor(keys.lock, 'a')).toBeUndefined();
  });
});
