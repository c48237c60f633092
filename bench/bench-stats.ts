/** Small statistics and formatting helpers shared by the lock benchmarks. */

/** The `p`-th percentile of an ascending array (nearest rank, rounded down); NaN when empty. */
export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** The median of unsorted values. */
export const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** `value` with thousands separators and `digits` decimals; '—' for NaN or infinity. */
export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';

/** What a hot-key run reports. */
export interface HotResult {
  sectionsPerSecond: number;
  p50: number;
  p99: number;
  longest: number;
  starvedTasks: number;
}

/**
 * A hot-key run's result from the waits of every completed acquisition and the sections each task
 * ran. Waits still open at the end are not counted; a task that never got in is "starved".
 */
export function hotResult(waits: number[], perTask: number[], durationMs: number): HotResult {
  const sorted = [...waits].sort((a, b) => a - b);
  return {
    sectionsPerSecond: sorted.length / (durationMs / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    longest: sorted[sorted.length - 1] ?? NaN,
    starvedTasks: perTask.filter((count) => count === 0).length,
  };
}
