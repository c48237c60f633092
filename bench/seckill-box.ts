// The box of one `bench:seckill` row: replicas behind nginx, and what each process spent per request.
import { join } from 'node:path';
import { cpus } from 'node:os';
import type { Redis } from 'ioredis';
import { AppReplica } from '../scripts/stack/app-replica';
import type { LocalStack } from '../scripts/stack/local-stack';
import { NginxServer } from '../scripts/stack/nginx';
import { CpuMeter } from './cpu-meter';
import type { LoadResult } from './seckill-load';
import { WakeMeter } from './wake-meter';

/** Replicas behind nginx in every row. */
export const REPLICAS = 3;

/** 3 replicas + nginx on the stack's MariaDB and Redis. */
export async function startReplicas(stack: LocalStack, env: NodeJS.ProcessEnv, tag: string) {
  const replicas = await Promise.all(
    Array.from({ length: REPLICAS }, (_, i) =>
      AppReplica.start(join(stack.root, `app-${tag}`), `app-${i + 1}`, { ...stack.env, ...env }),
    ),
  );
  const nginx = await NginxServer.start(
    join(stack.root, `nginx-${tag}`),
    replicas.map((replica) => replica.port),
  );
  return {
    url: nginx.url,
    replicas,
    nginx,
    async stop() {
      await nginx.stop();
      await Promise.all(replicas.map((replica) => replica.stop()));
    },
  };
}

/** The sum of a map's values (a row's CPU per group, its answers per status). */
export const sum = (map: Map<unknown, number>) => [...map.values()].reduce((a, b) => a + b, 0);

/** What `measured` reads of a row's box: CPU, and wake-ups and Redis commands. */
interface Meters {
  cpu: CpuMeter;
  wakes: WakeMeter;
}

/** The processes of a row's box, for `measured`: what each spent per request. */
export function meterFor(
  stack: LocalStack,
  cluster: { replicas: AppReplica[]; nginx: NginxServer },
  redis: Redis,
): Meters {
  const groups = [
    { name: 'replicas', pids: () => cluster.replicas.map((replica) => replica.process.pid) },
    { name: 'nginx', pids: () => [cluster.nginx.process.pid] },
    { name: 'Redis', pids: () => [stack.redis.process.pid] },
    { name: 'MariaDB', pids: () => [stack.mariadb?.process.pid] },
  ];
  return { cpu: new CpuMeter(groups), wakes: new WakeMeter(groups, redis) };
}

/**
 * Runs a load and adds each process group's CPU per request, and how busy the cores were during it.
 * `settle` (e.g. until the consumers have persisted the row's orders) runs before the costs are read,
 * so work a request leaves behind counts too; "busy" is over the load alone. Wake-ups and Redis
 * commands per request likewise.
 */
export async function measured(
  meters: Meters,
  run: () => Promise<LoadResult>,
  settle?: (result: LoadResult) => Promise<unknown>,
): Promise<LoadResult> {
  const wakesBefore = await meters.wakes.read();
  const before = meters.cpu.read();
  const t0 = performance.now();
  const result = await run();
  const seconds = (performance.now() - t0) / 1000;
  const atEnd = meters.cpu.read();
  await settle?.(result);
  const requests = sum(result.statuses);
  const cpu = CpuMeter.perRequest(before, meters.cpu.read(), requests);
  const wakes = WakeMeter.perRequest(wakesBefore, await meters.wakes.read(), requests);
  return { ...result, cpu, wakes, busy: (sum(atEnd) - sum(before)) / seconds / cpus().length };
}
