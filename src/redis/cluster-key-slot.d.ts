// cluster-key-slot (ioredis' own dependency) ships no types: its default export is the function below.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot of a key (CRC16 of its hash tag, mod 16384). */
  function calculateSlot(key: string): number;
  export = calculateSlot;
}
