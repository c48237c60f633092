/** A flat `[field, value, field, value, …]` reply (CONFIG GET, XINFO, a stream entry) as a record. */
export function pairsToRecord<V>(flat: readonly V[]): Record<string, V> {
  const record: Record<string, V> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    record[String(flat[i])] = flat[i + 1];
  }
  return record;
}
