/**
 * `npm run demo`: the local cluster (3 replicas + nginx), one seckill voucher, a flash sale of
 * thousands of virtual users driven by autocannon with a progress bar, then a report with the
 * invariants read back from MySQL.
 *
 * Options: --users N (default 5000), --per-user N (default 2), --stock N (default 500),
 * --connections N (default 200), --replicas N (default 3), --mode sync|async (default sync; async
 * answers 202 from Redis and the report adds the drain into MySQL, with a progress bar),
 * --report PATH (default ./report.html: the same report as a self-contained HTML page with charts),
 * --pay-ratio R (0–1: after the sale a share R of the winners pay, half of the rest cancel, the others
 * let a 5 s payment deadline pass; fresh buyers then buy the returned units — see demo-lifecycle.ts).
 */
import autocannon from 'autocannon';
import { SingleBar, Presets } from 'cli-progress';
import { createConnection } from 'mysql2/promise';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runLifecyclePhase, type LifecyclePhase } from './demo-lifecycle';
import { renderSaleReport } from './report/sale-report';
import { createSeckillVoucher, tokenFor } from './stack/api-client';
import { startLocalStack } from './stack/local-stack';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`--${name} needs a positive whole number`);
  }
  return value;
}

const users = option('users', 5000);
const perUser = option('per-user', 2);
const stock = option('stock', 500);
const connections = option('connections', 200);
const replicas = option('replicas', 3);
const reportIndex = process.argv.indexOf('--report');
const reportArg = reportIndex >= 0 ? process.argv[reportIndex + 1] : 'report.html';
if (!reportArg || reportArg.startsWith('--')) {
  throw new Error('--report needs a path');
}
const reportPath = resolve(reportArg);
const payRatioIndex = process.argv.indexOf('--pay-ratio');
const payRatio = payRatioIndex >= 0 ? Number(process.argv[payRatioIndex + 1]) : undefined;
if (payRatio !== undefined && !(payRatio >= 0 && payRatio <= 1)) {
  throw new Error('--pay-ratio is a share between 0 and 1');
}
const modeIndex = process.argv.indexOf('--mode');
const mode = modeIndex >= 0 ? process.argv[modeIndex + 1] : 'sync';
if (mode !== 'sync' && mode !== 'async') {
  throw new Error('--mode is sync or async');
}

/** Polls MySQL until every accepted order is persisted, with a progress bar. */
async function drain(mysqlUrl: string, voucherId: string, accepted: number): Promise<number> {
  const db = await createConnection({ uri: mysqlUrl });
  const bar = new SingleBar({ format: 'persisting  |{bar}| {value}/{total} orders in MySQL' }, Presets.shades_classic);
  const started = performance.now();
  bar.start(accepted, 0);
  try {
    for (;;) {
      const [[row]] = (await db.query('SELECT COUNT(*) AS n FROM tb_voucher_order WHERE voucher_id = ?', [
        voucherId,
      ])) as unknown as [[{ n: number }]];
      bar.update(Number(row.n));
      if (Number(row.n) >= accepted) {
        return performance.now() - started;
      }
      if (performance.now() - started > 120_000) {
        throw new Error(`only ${row.n} of ${accepted} accepted orders reached MySQL in 120 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    bar.stop();
    await db.end();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`Starting MariaDB, Redis, ${replicas} replicas and nginx…\n`);
  const lifecycleEnv =
    payRatio === undefined
      ? {}
      : {
          ORDER_PAYMENT_TIMEOUT_MS: '5000',
          ORDER_EXPIRY_SCAN_INTERVAL_MS: '250',
          ORDER_RETURN_RELAY_INTERVAL_MS: '250',
        };
  const stack = await startLocalStack({ replicas, nginxPort: 0, env: { ORDER_MODE: mode, ...lifecycleEnv } });
  const stop = () => stack.stop();
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const baseUrl = stack.nginx!.url;
    const voucherId = await createSeckillVoucher(baseUrl, stock, { fromMs: -60_000, toMs: 3_600_000 });
    process.stdout.write(
      `Voucher ${voucherId}: stock ${stock}; ${users} users × ${perUser} requests; ORDER_MODE=${mode}\n`,
    );

    const tokens = Array.from({ length: users }, (_, i) => tokenFor(String(10_000 + i)));
    const total = users * perUser;
    let issued = 0;
    const codes = new Map<string, number>();
    const orderIds: string[] = [];
    const latenciesMs: number[] = [];
    /** Answers and accepted orders per 250 ms of the sale. */
    const STEP_MS = 250;
    const steps: { answers: number; accepted: number }[] = [];
    const saleStarted = performance.now();
    const bar = new SingleBar({ format: 'flash sale |{bar}| {value}/{total} requests' }, Presets.shades_classic);
    bar.start(total, 0);
    const result = await autocannon({
      url: baseUrl,
      connections,
      amount: total,
      requests: [
        {
          method: 'POST',
          path: `/voucher-order/seckill/${voucherId}`,
          setupRequest: (request, context: { sentAt?: number }) => {
            // One request in flight per connection: its context remembers when it was sent.
            context.sentAt = performance.now();
            return {
              ...request,
              // Each user's requests are spread over the run, interleaved with other users'.
              headers: { ...request.headers, authorization: `Bearer ${tokens[issued++ % users]}` },
            };
          },
          onResponse: (status, body, context: { sentAt?: number }) => {
            bar.increment();
            const now = performance.now();
            latenciesMs.push(now - (context.sentAt ?? now));
            const step = Math.floor((now - saleStarted) / STEP_MS);
            while (steps.length <= step) {
              steps.push({ answers: 0, accepted: 0 });
            }
            steps[step].answers++;
            if (status === 201 || status === 202) {
              steps[step].accepted++;
            }
            let code = String(status);
            try {
              const parsed = JSON.parse(body) as { code?: string; orderId?: string };
              if (parsed.orderId) {
                orderIds.push(parsed.orderId);
                code = status === 202 ? 'ACCEPTED' : 'CREATED';
              } else if (parsed.code) {
                code = parsed.code;
              }
            } catch {
              // not JSON
            }
            codes.set(`${status} ${code}`, (codes.get(`${status} ${code}`) ?? 0) + 1);
          },
        },
      ],
    });
    bar.stop();
    const saleEnded = performance.now();
    const drainMs = mode === 'async' ? await drain(stack.mysqlUrl, voucherId, orderIds.length) : 0;

    const db = await createConnection({ uri: stack.mysqlUrl, supportBigNumbers: true, bigNumberStrings: true });
    const [[counts]] = (await db.query(
      'SELECT COUNT(*) AS orders, COUNT(DISTINCT id) AS ids, COUNT(DISTINCT user_id) AS buyers FROM tb_voucher_order WHERE voucher_id = ?',
      [voucherId],
    )) as unknown as [[{ orders: string; ids: string; buyers: string }]];
    const [[left]] = (await db.query('SELECT stock FROM tb_seckill_voucher WHERE voucher_id = ?', [
      voucherId,
    ])) as unknown as [[{ stock: number }]];
    const [ids] = (await db.query('SELECT id FROM tb_voucher_order WHERE voucher_id = ?', [voucherId])) as unknown as [
      { id: string }[],
    ];
    await db.end();
    const inDb = new Set(ids.map((row) => String(row.id)));
    let duplicateKeyRejections = 0;
    for (const replica of stack.replicas) {
      const metrics = await (await fetch(`${replica.metricsUrl}/metrics`)).text();
      const line = metrics.split('\n').find((l) => l.startsWith('seckill_order_duplicate_key_rejections_total '));
      duplicateKeyRejections += line ? Number(line.split(' ')[1]) : 0;
    }

    const orders = Number(counts.orders);
    const checks: [string, boolean][] = [
      [`orders (${orders}) = min(stock, users) = ${Math.min(stock, users)}`, orders === Math.min(stock, users)],
      [`stock left (${left.stock}) = stock − orders`, left.stock === stock - orders],
      ['no user has two orders', Number(counts.buyers) === orders],
      ['all order ids distinct', Number(counts.ids) === orders],
      [
        `every ${mode === 'async' ? 202 : 201} orderId is in MySQL (${orderIds.length})`,
        orderIds.length === orders && orderIds.every((id) => inDb.has(id)),
      ],
      [`duplicate-key rejections = 0 (${duplicateKeyRejections})`, duplicateKeyRejections === 0],
    ];
    const lifecycle: LifecyclePhase | undefined =
      payRatio === undefined
        ? undefined
        : await runLifecyclePhase({
            baseUrl,
            mysqlUrl: stack.mysqlUrl,
            redisUrl: stack.redis.url,
            voucherId,
            stock,
            payRatio,
            firstNewUser: 10_000 + users,
          });
    checks.push(...(lifecycle?.checks ?? []));
    const lines = [
      '',
      `Requests     ${result.requests.total} in ${result.duration.toFixed(1)} s (${connections} connections, ${replicas} replicas)`,
      `Throughput   ${Math.round(result.requests.average).toLocaleString('en-US')} req/s`,
      `Latency      p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
      'Status mix',
      ...[...codes].sort((a, b) => b[1] - a[1]).map(([code, count]) => `  ${code.padEnd(24)} ${count}`),
      `Orders       ${orders}`,
      ...(mode === 'async'
        ? [
            `Drain        all ${orderIds.length} accepted orders in MySQL ${Math.round(drainMs)} ms after the sale's last answer` +
              ` (${Math.round(performance.now() - saleEnded)} ms incl. this report's reads)`,
          ]
        : []),
      ...(lifecycle?.lines ?? []),
      'Invariants (read back from MySQL)',
      ...checks.map(([name, ok]) => `  ${ok ? 'PASS' : 'FAIL'}  ${name}`),
      '',
    ];
    process.stdout.write(lines.join('\n'));
    writeFileSync(
      reportPath,
      renderSaleReport({
        title: `Flash sale of voucher ${voucherId}: ${orders} of ${stock} sold`,
        setup: `${users} users × ${perUser} requests, ${connections} connections, ${replicas} replicas behind nginx, ORDER_MODE=${mode}`,
        timeline: steps.map((step, i) => ({
          atSeconds: ((i + 1) * STEP_MS) / 1000,
          answersPerSecond: (step.answers * 1000) / STEP_MS,
          acceptedPerSecond: (step.accepted * 1000) / STEP_MS,
        })),
        latenciesMs,
        outcomes: [...[...codes].sort((a, b) => b[1] - a[1]), ...(lifecycle?.outcomes ?? [])],
        summary: [
          ['Requests', `${result.requests.total} in ${result.duration.toFixed(1)} s`],
          ['Throughput', `${Math.round(result.requests.average).toLocaleString('en-US')} req/s`],
          ['Latency', `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`],
          ['Orders in MySQL', String(orders)],
          ...(mode === 'async'
            ? ([['Drain', `${Math.round(drainMs)} ms after the last answer`]] as [string, string][])
            : []),
          ...(lifecycle?.summary ?? []),
        ],
        invariants: checks.map(([check, ok]) => ({ check, ok })),
      }),
    );
    process.stdout.write(`Report       ${reportPath}\n`);
    process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
