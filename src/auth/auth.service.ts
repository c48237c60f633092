import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthUser, ROLES, Role } from './auth-user';
import { UnauthenticatedError } from './auth.errors';

interface TokenClaims {
  sub?: unknown;
  role?: unknown;
}

const USER_ID = /^[1-9]\d{0,18}$/;

/** Issues and verifies HS256 tokens: `sub` = user id (positive integer as a string), `role`. */
@Injectable()
export class AuthService {
  constructor(private readonly jwt: JwtService) {}

  sign(user: AuthUser, expiresInSeconds = 24 * 3600): string {
    return this.jwt.sign({ sub: user.id, role: user.role }, { expiresIn: expiresInSeconds });
  }

  verify(token: string): AuthUser {
    let claims: TokenClaims;
    try {
      claims = this.jwt.verify<TokenClaims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthenticatedError('The bearer token is invalid or expired');
    }
    const { sub, role } = claims;
    if (typeof sub !== 'string' || !USER_ID.test(sub) || !ROLES.includes(role as Role)) {
      throw new UnauthenticatedError('The bearer token lacks a valid sub or role');
    }
    return { id: sub, role: role as Role };
  }
}
