// `bench:seckill`'s tables and notes.
import { cpus } from 'node:os';
import type { LoadResult } from './seckill-load';
import { sum } from './seckill-box';

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const mix = (statuses: Map<number, number>) =>
  [...statuses]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status}×${fmt(n)}`)
    .join(' ');

const GROUPS = ['replicas', 'nginx', 'Redis', 'MariaDB', 'load generator'];

/** Where each row's CPU went, per request, and how busy the machine's cores were. */
export function cpuTable(rows: { name: string; result: LoadResult }[]): string[] {
  const us = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(1));
  return [
    `CPU per request (µs, user + system, from /proc; the load generator is this process):`,
    '',
    `| row | ${GROUPS.join(' | ')} | total | cores busy |`,
    `|---|${GROUPS.map(() => '---:').join('|')}|---:|---:|`,
    ...rows
      .filter(({ result }) => result.cpu)
      .map(({ name, result }) => {
        const cells = GROUPS.map((group) => us(result.cpu!.get(group)));
        return `| ${name} | ${cells.join(' | ')} | ${us(sum(result.cpu!))} | ${((result.busy ?? 0) * 100).toFixed(0)} % |`;
      }),
  ];
}

const WAKE_COLUMNS = [
  'replicas sleeps',
  'replicas preempted',
  'Redis sleeps',
  'MariaDB sleeps',
  'Redis commands',
  'Redis script calls',
] as const;

export function wakeTable(rows: { name: string; result: LoadResult }[]): string[] {
  return [
    'Wake-ups and Redis commands per request (context switches from /proc: a sleep is a process waiting ' +
      'for I/O, so each is one wake-up; preempted = taken off a core with work left; commands from INFO commandstats, ' +
      'a script call counting once as EVALSHA and once per command it runs):',
    '',
    `| row | ${WAKE_COLUMNS.join(' | ')} |`,
    `|---|${WAKE_COLUMNS.map(() => '---:').join('|')}|`,
    ...rows
      .filter(({ result }) => result.wakes)
      .map(
        ({ name, result }) =>
          `| ${name} | ${WAKE_COLUMNS.map((column) => (result.wakes!.get(column) ?? 0).toFixed(2)).join(' | ')} |`,
      ),
  ];
}

/**
 * With every core busy, req/s is the cores' µs over the µs a request costs the whole box. So even if
 * the sale cost the replicas, nginx and the load generator nothing more than the no-op does, the async
 * row would still pay Redis' and MariaDB's work for each order on the same cores: that bounds the
 * ratio from above, whatever the replica's code does.
 */
export function ceilingNote(noop: LoadResult, sale: LoadResult): string {
  const servers = (cpu: Map<string, number>) => (cpu.get('Redis') ?? 0) + (cpu.get('MariaDB') ?? 0);
  const noopUs = sum(noop.cpu!);
  const floorUs = noopUs + servers(sale.cpu!) - servers(noop.cpu!);
  const actual = noop.busy && sale.busy ? (noopUs * sale.busy) / (sum(sale.cpu!) * noop.busy) : 0;
  return (
    `CPU bound: the no-op costs the box ${noopUs.toFixed(0)} µs a request, the async sale ` +
    `${sum(sale.cpu!).toFixed(0)} µs (CPU-predicted ratio ${actual.toFixed(2)}×); with the replicas, nginx and ` +
    `the load generator paying nothing for the sale, Redis and MariaDB alone would hold the ratio to ` +
    `${(noopUs / floorUs).toFixed(2)}× on these ${cpus().length} cores.`
  );
}
