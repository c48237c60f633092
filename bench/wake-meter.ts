import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { CpuGroup } from './cpu-meter';
import { descendantsOf } from '../scripts/stack/process-tree';

/** Context switches and Redis commands so far, per name (see `WakeMeter.read`). */
export type WakeSample = Map<string, number>;

/** Voluntary and involuntary context switches of one process (all threads); 0 once it is gone. */
function contextSwitchesOf(pid: number): [number, number] {
  let voluntary = 0;
  let involuntary = 0;
  try {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8');
      voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    }
  } catch {
    // Gone (or a thread ended between the listing and the read): what was read counts.
  }
  return [voluntary, involuntary];
}

/**
 * How often a row's processes woke up and what Redis was asked, per request: on a small box the cost
 * of a round trip is less the work it carries than the wake-ups it causes. A voluntary context
 * switch is a process going to sleep on I/O (each wake-up after it is one); an involuntary one is a
 * process taken off a core with work left (the cores are oversubscribed). Redis' commands come from
 * `INFO commandstats` (a script call counts once as EVALSHA, and once per command it runs).
 */
export class WakeMeter {
  constructor(
    private readonly groups: CpuGroup[],
    private readonly redisUrl: string,
  ) {}

  async read(): Promise<WakeSample> {
    const sample: WakeSample = new Map();
    for (const group of this.groups) {
      const roots = group.pids().filter((pid): pid is number => pid !== undefined);
      let voluntary = 0;
      let involuntary = 0;
      for (const pid of new Set(roots.flatMap((root) => [root, ...descendantsOf(root)]))) {
        const [v, i] = contextSwitchesOf(pid);
        voluntary += v;
        involuntary += i;
      }
      sample.set(`${group.name} sleeps`, voluntary);
      sample.set(`${group.name} preempted`, involuntary);
    }
    const redis = new Redis(this.redisUrl, { lazyConnect: true, commandTimeout: 5000 });
    try {
      await redis.connect();
      let commands = 0;
      let scripts = 0;
      for (const [, name, calls] of (await redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
        commands += Number(calls);
        scripts += name === 'evalsha' || name === 'eval' ? Number(calls) : 0;
      }
      sample.set('Redis commands', commands);
      sample.set('Redis script calls', scripts);
    } finally {
      redis.disconnect();
    }
    return sample;
  }

  /** Per request between two samples. */
  static perRequest(before: WakeSample, after: WakeSample, requests: number): WakeSample {
    return new Map([...after].map(([name, count]) => [name, (count - (before.get(name) ?? 0)) / requests]));
  }
}
