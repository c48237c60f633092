/**
 * `npm run bench:http [-- --replicas N]`: the flash-sale endpoint against raw Node http, both
 * behind the same nginx config, side by side in one run on this machine.
 *
 * raw: a bare `http.createServer` answering the same 409 JSON body the sale endpoint sends once
 * sold out. ours: `POST /voucher-order/seckill/:id` on a sold-out voucher with a valid JWT (the
 * path every request but `stock` takes in a flash sale: auth, id validation, one Redis script).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createSeckillVoucher, tokenFor } from '../scripts/stack/api-client';
import { startLocalStack } from '../scripts/stack/local-stack';
import { AppReplica } from '../scripts/stack/app-replica';
import { NginxServer } from '../scripts/stack/nginx';
import { freePort, probeTcp } from '../scripts/stack/ports';
import { registerPid } from '../scripts/stack/pid-registry';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 4);
const replicasArg = process.argv.indexOf('--replicas');
const replicas = replicasArg >= 0 ? Number(process.argv[replicasArg + 1]) : 2;

const RAW_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ code: 'SOLD_OUT', message: 'Sold out' });
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(409, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

async function load(
  url: string,
  headers: Record<string, string> = {},
  durationS = DURATION_S,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const result = await autocannon({ url, method: 'POST', headers, connections: CONNECTIONS, duration: durationS });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx - result['4xx'],
  };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const rawPort = await freePort();
  const raw = spawn(process.execPath, ['-e', RAW_SERVER], {
    env: { ...process.env, PORT: String(rawPort) },
    stdio: 'ignore',
  });
  registerPid(raw.pid!);
  const stack = await startLocalStack({ replicas, env: { LOG_LEVEL: 'warn', RATE_LIMIT_USER_PER_SECOND: '0' } });
  try {
    for (
      let i = 0;
      i < 50 &&
      !(await probeTcp(rawPort).then(
        () => true,
        () => false,
      ));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const rawNginx = await NginxServer.start(join(root, 'nginx-raw'), [rawPort]);
    const base = stack.nginx!.url;
    const id = await createSeckillVoucher(base, 1);
    const buyer = { authorization: `Bearer ${tokenFor('2')}` };
    await fetch(`${base}/voucher-order/seckill/${id}`, { method: 'POST', headers: buyer });
    const latecomer = { authorization: `Bearer ${tokenFor('3')}` };
    const check = await fetch(`${base}/voucher-order/seckill/${id}`, { method: 'POST', headers: latecomer });
    if (check.status !== 409) {
      throw new Error(`expected a sold-out 409, got ${check.status}`);
    }
    const path = `/voucher-order/seckill/${id}`;
    const rows: [string, Awaited<ReturnType<typeof load>>][] = [];
    rows.push(['raw node http behind nginx', await load(`${rawNginx.url}${path}`)]);
    rows.push([`sale endpoint, ${replicas} replica(s) behind nginx`, await load(`${base}${path}`, latecomer)]);
    rows.push(['sale endpoint, 1 replica direct (no nginx)', await load(`${stack.replicas[0].url}${path}`, latecomer)]);
    // What the operational features cost, each on a replica of its own, direct (no nginx).
    const variant = (name: string, env: NodeJS.ProcessEnv) =>
      AppReplica.start(join(root, `app-${name}`), `app-${name}`, { ...stack.env, ...env });
    const noMetrics = await variant('no-http-metrics', { HTTP_METRICS_ENABLED: 'false' });
    const limited = await variant('rate-limited', {
      // A bucket taken on every request that never runs dry: the check's cost, not its refusals.
      RATE_LIMIT_USER_PER_SECOND: '100000',
      RATE_LIMIT_USER_BURST: '1000000',
    });
    // Interleaved rounds, medians: this machine drifts by tens of percent within a minute.
    const variants: [string, string][] = [
      ['sale endpoint, 1 replica direct (no nginx)', stack.replicas[0].url],
      ['sale endpoint, 1 replica direct, HTTP metrics off', noMetrics.url],
      ['sale endpoint, 1 replica direct, per-user rate limit on (never refusing)', limited.url],
    ];
    const samples = new Map<string, Awaited<ReturnType<typeof load>>[]>(variants.map(([name]) => [name, []]));
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, url] of variants) {
          samples.get(name)!.push(await load(`${url}${path}`, latecomer, ROUND_S));
        }
      }
    } finally {
      await Promise.all([noMetrics.stop(), limited.stop()]);
    }
    await rawNginx.stop();
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
    const variantRows: [string, Awaited<ReturnType<typeof load>>][] = [...samples].map(([name, runs]) => [
      `${name} — median of ${ROUNDS} interleaved ${ROUND_S} s runs`,
      {
        rps: median(runs.map((run) => run.rps)),
        p50: median(runs.map((run) => run.p50)),
        p99: median(runs.map((run) => run.p99)),
        errors: runs.reduce((sum, run) => sum + run.errors, 0),
      },
    ]);
    const lines = [
      `HTTP benchmark — ${DURATION_S} s per row, ${CONNECTIONS} connections, autocannon on the same ${
        cpus().length
      }-core machine, Node ${process.version}`,
      '',
      '| target | req/s | p50 ms | p99 ms | non-409 errors | vs raw |',
      '|---|---:|---:|---:|---:|---:|',
      ...[...rows, ...variantRows].map(
        ([name, r]) =>
          `| ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.errors} | ${(r.rps / rows[0][1].rps).toFixed(2)}× |`,
      ),
      '',
      ratios(samples),
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    raw.kill('SIGKILL');
    await stack.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Per round, each variant against the default run just before it; the median of those ratios. */
function ratios(samples: Map<string, { rps: number }[]>): string {
  const [base, noMetrics, limited] = [...samples.values()];
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  const metricsOnOff = median(base.map((run, i) => run.rps / noMetrics[i].rps));
  const limitOnOff = median(base.map((run, i) => limited[i].rps / run.rps));
  return (
    `Per-round ratios (medians): HTTP metrics on/off ${metricsOnOff.toFixed(2)}× ` +
    `(cost ${((1 - metricsOnOff) * 100).toFixed(1)} %); per-user rate limit on/off ${limitOnOff.toFixed(2)}×`
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
