import { createHmac } from 'node:crypto';
import { DEV_JWT_SECRET } from '../../scripts/stack/local-stack';

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * Hand-made JWTs for the suites that must see them refused: any header, any claims, HS256 or HS512
 * with any secret (jsonwebtoken would refuse to mint most of them).
 */
export function forgeToken(
  claims: object,
  options: { secret?: string; alg?: 'HS256' | 'HS512'; header?: object } = {},
): string {
  const alg = options.alg ?? 'HS256';
  const header = options.header ?? { alg, typ: 'JWT' };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const hmac = createHmac(alg === 'HS512' ? 'sha512' : 'sha256', options.secret ?? DEV_JWT_SECRET);
  return `${unsigned}.${hmac.update(unsigned).digest('base64url')}`;
}

/** An unsigned token (`alg: none` and its spellings): header and claims, empty signature. */
export function unsignedToken(claims: object, alg = 'none'): string {
  return `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}.`;
}

/** Seconds since the epoch, as `iat`/`exp` count them. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);
