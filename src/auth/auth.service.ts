import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthUser, ROLES, Role } from './auth-user';
import { UnauthenticatedError } from './auth.errors';

interface TokenClaims {
  sub?: unknown;
  role?: unknown;
  exp?: number;
}

const USER_ID = /^[1-9]\d{0,18}$/;

/** Verified tokens kept in memory; a flash sale sees the same users' tokens over and over. */
const CACHE_LIMIT = 100_000;

/** Issues and verifies HS256 tokens: `sub` = user id (positive integer as a string), `role`. */
@Injectable()
export class AuthService {
  private readonly verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();

  constructor(private readonly jwt: JwtService) {}

  sign(user: AuthUser, expiresInSeconds = 24 * 3600): string {
    return this.jwt.sign({ sub: user.id, role: user.role }, { expiresIn: expiresInSeconds });
  }

  /** The caller named by an `Authorization: Bearer <token>` header; throws UnauthenticatedError otherwise. */
  authenticate(header: string | undefined): AuthUser {
    if (!header?.startsWith('Bearer ')) {
      throw new UnauthenticatedError('A bearer token is required');
    }
    return this.verify(header.slice('Bearer '.length).trim());
  }

  /** Verifies signature, algorithm and expiry; repeat tokens are answered from a bounded cache until they expire. */
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
    this.verified.set(token, { user, expiresAtMs: exp ? exp * 1000 : Date.now() + 60_000 });
    return user;
  }

  private verifyUncached(token: string): { user: AuthUser; exp?: number } {
    let claims: TokenClaims;
    try {
      claims = this.jwt.verify<TokenClaims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthenticatedError('The bearer token is invalid or expired');
    }
    const { sub, role, exp } = claims;
    if (typeof sub !== 'string' || !USER_ID.test(sub) || !ROLES.includes(role as Role)) {
      throw new UnauthenticatedError('The bearer token lacks a valid sub or role');
    }
    return { user: { id: sub, role: role as Role }, exp };
  }
}
