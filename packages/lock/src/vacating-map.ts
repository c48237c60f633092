/**
 * A Map whose removed entries are first vacated (value `undefined`) and swept in bulk later. V8's
 * Map rehashes after a few set/delete cycles on a key, and a lock is registered and unregistered
 * on every acquisition, so plain deletes cost a table rebuild (and garbage) every few locks.
 */
export class VacatingMap<K, V> {
  private readonly map = new Map<K, V | undefined>();
  private live = 0;
  private vacated = 0;

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.map.get(key) === undefined) {
      this.live++;
    }
    this.map.set(key, value);
  }

  delete(key: K): void {
    if (this.map.get(key) === undefined) {
      return;
    }
    this.map.set(key, undefined);
    this.live--;
    // Sweep once the vacated entries could outnumber the live ones: memory stays bounded by the
    // lock names in use, and each sweep is paid for by as many cheap removals.
    if (++this.vacated > 1024 && this.vacated > this.live) {
      this.sweep();
    }
  }

  /** Number of live entries. */
  get size(): number {
    return this.live;
  }

  *values(): IterableIterator<V> {
    for (const value of this.map.values()) {
      if (value !== undefined) {
        yield value;
      }
    }
  }

  private sweep(): void {
    for (const [key, value] of this.map) {
      if (value === undefined) {
        this.map.delete(key);
      }
    }
    this.vacated = 0;
  }
}
