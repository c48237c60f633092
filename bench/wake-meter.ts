import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { membersOf, type CpuGroup } from './cpu-meter';

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
    /** A connection to the measured Redis (its `INFO` call counts once in each sample, the same in both). */
    private readonly redis: Pick<Redis, 'info'>,
  ) {}

  async read(): Promise<WakeSample> {
    const sample: WakeSample = new Map();
    for (const group of this.groups) {
      let voluntary = 0;
      let involuntary = 0;
      for (const pid of membersOf(group)) {
        const [v, i] = contextSwitchesOf(pid);
        voluntary += v;
        involuntary += i;
      }
      sample.set(`${group.name} sleeps`, voluntary);
      sample.set(`${group.name} preempted`, involuntary);
    }
    let commands = 0;
    let scripts = 0;
    for (const [, name, calls] of (await this.redis.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
      commands += Number(calls);
      scripts += name === 'evalsha' || name === 'eval' ? Number(calls) : 0;
    }
    sample.set('Redis commands', commands);
    sample.set('Redis script calls', scripts);
    return sample;
  }

  /** Per request between two samples. */
  static perRequest(before: WakeSample, after: WakeSample, requests: number): WakeSample {
    return new Map([...after].map(([name, count]) => [name, (count - (before.get(name) ?? 0)) / requests]));
  }
}
