// One load of `bench:seckill`: fresh buyers' tokens and autocannon against one URL.
import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import { createSeckillVoucher } from '../scripts/stack/api-client';
import { DEV_JWT_SECRET } from '../scripts/stack/local-stack';
import type { WakeSample } from './wake-meter';

export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
/** Unmeasured load each row's replicas serve first (JIT, pools, connections), in seconds. */
export const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 30);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
/** Buyers (tokens) per row: more than a row's requests, so nobody orders twice. */
export const USERS = Number(process.env.BENCH_USERS ?? 120_000);

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  statuses: Map<number, number>;
  lastAcceptedAt: number;
  /** µs of CPU per request of each process group during the row (`measured`), where measured. */
  cpu?: Map<string, number>;
  /** Context switches and Redis commands per request during the row (`measured`), where measured. */
  wakes?: WakeSample;
  /** Share of the machine's cores the whole box used during the row. */
  busy?: number;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * The same HS256 tokens `tokenFor` mints (header, `sub`, `role`, `iat`, `exp`), signed with one HMAC
 * each: jsonwebtoken takes ~0.4 ms a token on this machine, too slow for 100,000s of buyers.
 */
function mintTokens(count: number, offset: number): string[] {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const iat = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const payload = base64url(JSON.stringify({ sub: String(offset + i), role: 'user', iat, exp: iat + 3600 }));
    const signature = createHmac('sha256', DEV_JWT_SECRET).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  });
}

/** Hands out a fresh buyer per request (tokens minted up front, so minting costs the run nothing). */
export class Buyers {
  private next = 0;
  readonly tokens: string[];

  constructor(count: number, offset: number) {
    this.tokens = mintTokens(count, offset);
  }

  take(): string {
    return this.tokens[this.next++ % this.tokens.length];
  }
}

/**
 * A source of buyers never seen before, USERS at a time: every row gets new tokens, so every row pays
 * the same JWT verification.
 */
export function freshBuyers(): () => Buyers {
  let offset = 1_000_000;
  return () => {
    const buyers = new Buyers(USERS, offset);
    offset += USERS;
    return buyers;
  };
}

export async function load(
  url: string,
  buyers: Buyers,
  options: { duration?: number; amount?: number } = { duration: DURATION_S },
): Promise<LoadResult> {
  const statuses = new Map<number, number>();
  let lastAcceptedAt = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? DURATION_S }),
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${buyers.take()}` },
        }),
        onResponse: (status) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 202 || status === 201) {
            lastAcceptedAt = performance.now();
          }
        },
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, statuses, lastAcceptedAt };
}

/**
 * The unmeasured warm-up of a cluster's sale path (JIT, pools, connections): WARMUP_S on a sale of its
 * own with `buyers()`; `settle` (async: its orders persisted) runs before the measured row starts, so
 * none of the warm-up's work is counted there.
 */
export async function warmUp(
  url: string,
  buyers: () => Buyers,
  settle?: (voucherId: string, result: LoadResult) => Promise<unknown>,
): Promise<void> {
  if (WARMUP_S <= 0) {
    return;
  }
  const voucherId = await createSeckillVoucher(url, 10_000_000);
  const result = await load(`${url}/voucher-order/seckill/${voucherId}`, buyers(), { duration: WARMUP_S });
  await settle?.(voucherId, result);
}
