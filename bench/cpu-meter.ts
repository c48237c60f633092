import { descendantsOf, statFields } from '../scripts/stack/process-tree';

/** A named set of processes whose CPU is counted together (e.g. "replicas": three pids). */
export interface CpuGroup {
  name: string;
  /** Root pids; their child processes (nginx's workers) are counted too. */
  pids: () => (number | undefined)[];
}

/** CPU seconds per group over one measured stretch. */
export type CpuSample = Map<string, number>;

const TICKS_PER_SECOND = 100;

/**
 * CPU of one process (all threads) and of its children it has reaped (e.g. Redis' AOF-rewrite child,
 * whose time moves to the parent when it exits), from /proc; undefined once it is gone.
 */
function cpuSecondsOf(pid: number): number | undefined {
  const fields = statFields(pid);
  // utime, stime, cutime, cstime
  return (
    fields && (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND
  );
}

/** A group's processes now: its live root pids and their descendants (nginx's workers). */
export function membersOf(group: CpuGroup): Set<number> {
  const roots = group.pids().filter((pid): pid is number => pid !== undefined);
  return new Set(roots.flatMap((pid) => [pid, ...descendantsOf(pid)]));
}

/**
 * Per-process CPU accounting for a benchmark row: where a machine's cores went, per request. The
 * load generator runs in this process, so it is measured with `process.cpuUsage()`.
 */
export class CpuMeter {
  constructor(private readonly groups: CpuGroup[]) {}

  /** CPU seconds used so far by each group (and by this process, as "load generator"). */
  read(): CpuSample {
    const sample: CpuSample = new Map();
    for (const group of this.groups) {
      let seconds = 0;
      for (const pid of membersOf(group)) {
        seconds += cpuSecondsOf(pid) ?? 0;
      }
      sample.set(group.name, seconds);
    }
    const own = process.cpuUsage();
    sample.set('load generator', (own.user + own.system) / 1e6);
    return sample;
  }

  /** µs of CPU per request per group between two samples. */
  static perRequest(before: CpuSample, after: CpuSample, requests: number): Map<string, number> {
    return new Map([...after].map(([name, seconds]) => [name, ((seconds - (before.get(name) ?? 0)) / requests) * 1e6]));
  }
}
