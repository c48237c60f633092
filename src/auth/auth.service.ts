import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isId } from '../common/parse-id.pipe';
import { appConfig, type AppConfig } from '../config/app-config';
import { AuthUser, ROLES, Role } from './auth-user';
import { UnauthenticatedError } from './auth.errors';

interface TokenClaims {
  sub?: unknown;
  role?: unknown;
  exp?: unknown;
  iat?: unknown;
}

/** Verified tokens kept in memory; a flash sale sees the same users' tokens over and over. */
const CACHE_LIMIT = 100_000;

/** Issues and verifies HS256 tokens: `sub` = user id (positive integer as a string), `role`. */
@Injectable()
export class AuthService {
  private readonly verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();
  private readonly maxTtlSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    @Inject(appConfig.KEY) config: Pick<AppConfig, 'AUTH_MAX_TOKEN_TTL_S'>,
  ) {
    this.maxTtlSeconds = config.AUTH_MAX_TOKEN_TTL_S;
  }

  /** A token for `user`, valid for a day or the longest lifetime accepted (AUTH_MAX_TOKEN_TTL_S), whichever is shorter. */
  sign(user: AuthUser, expiresInSeconds = Math.min(24 * 3600, this.maxTtlSeconds)): string {
    return this.jwt.sign({ sub: user.id, role: user.role }, { expiresIn: expiresInSeconds });
  }

  /** The caller named by an `Authorization: Bearer <token>` header; throws UnauthenticatedError otherwise. */
  authenticate(header: string | undefined): AuthUser {
    if (!header?.startsWith('Bearer ')) {
      throw new UnauthenticatedError('A bearer token is required');
    }
    return this.verify(header.slice('Bearer '.length).trim());
  }

  /**
   * Verifies signature, algorithm, expiry and lifetime; repeat tokens are answered from a bounded
   * cache until they expire.
   */
  verify(token: string): AuthUser {
    const cached = this.verified.get(token);
    if (cached && cached.expiresAtMs > Date.now()) {
      return cached.user;
    }
    const { user, exp } = this.verifyUncached(token);
    if (this.verified.size >= CACHE_LIMIT) {
      // Maps iterate in insertion order: drop the oldest entry.
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, { user, expiresAtMs: exp * 1000 });
    return user;
  }

  private verifyUncached(token: string): { user: AuthUser; exp: number } {
    let claims: TokenClaims;
    try {
      claims = this.jwt.verify<TokenClaims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthenticatedError('The bearer token is invalid or expired');
    }
    const { sub, role, exp, iat } = claims;
    // Without `exp` (or with one centuries away) a leaked token, an admin's included, would work forever.
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new UnauthenticatedError('The bearer token has no expiry (exp)');
    }
    // `exp − iat`, or `exp − now` without `iat`; an `iat` in the future counts as now, or it would
    // carry a far-off `exp` within the bound.
    const now = Date.now() / 1000;
    const issuedAt = typeof iat === 'number' && Number.isFinite(iat) ? Math.min(iat, now) : now;
    if (exp - issuedAt > this.maxTtlSeconds) {
      throw new UnauthenticatedError(`The bearer token lives longer than ${this.maxTtlSeconds} s`);
    }
    // The same bound as path ids: user ids are BIGINT, and a larger one would not round-trip.
    if (!isId(sub) || !ROLES.includes(role as Role)) {
      throw new UnauthenticatedError('The bearer token lacks a valid sub or role');
    }
    return { user: { id: sub, role: role as Role }, exp };
  }
}
