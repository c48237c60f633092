import { JwtService } from '@nestjs/jwt';
import { UnauthenticatedError } from './auth.errors';
import { AuthService } from './auth.service';

const secret = 's'.repeat(32);
const day = 86_400;
const service = new AuthService(new JwtService({ secret, signOptions: { algorithm: 'HS256' } }), {
  AUTH_MAX_TOKEN_TTL_S: day,
});
const jwt = new JwtService({ secret });
const now = () => Math.floor(Date.now() / 1000);

describe(AuthService.name, () => {
  it('round-trips a user through a token', () => {
    expect(service.verify(service.sign({ id: '9007199254740993', role: 'admin' }))).toEqual({
      id: '9007199254740993',
      role: 'admin',
    });
  });

  it('rejects a token signed with another secret', () => {
    const other = new JwtService({ secret: 'o'.repeat(32) }).sign({ sub: '1', role: 'user' }, { expiresIn: 60 });
    expect(() => service.verify(other)).toThrow(UnauthenticatedError);
  });

  it('rejects tokens whose sub is not a positive integer string up to 2^63-1 or whose role is unknown', () => {
    for (const claims of [
      { sub: 1, role: 'user' },
      { sub: '0', role: 'user' },
      { sub: '-3', role: 'user' },
      { sub: '9223372036854775808', role: 'user' },
      { sub: '18446744073709551615', role: 'admin' },
      { sub: '12', role: 'root' },
      { sub: '12', role: 'ADMIN' },
      { sub: '12', role: ['admin'] },
    ]) {
      expect(() => service.verify(jwt.sign(claims, { expiresIn: 60 }))).toThrow(UnauthenticatedError);
    }
    expect(service.verify(jwt.sign({ sub: '9223372036854775807', role: 'user' }, { expiresIn: 60 }))).toEqual({
      id: '9223372036854775807',
      role: 'user',
    });
  });

  it('rejects an expired token', () => {
    const expired = jwt.sign({ sub: '1', role: 'user', exp: now() - 10 });
    expect(() => service.verify(expired)).toThrow(UnauthenticatedError);
  });

  it('rejects a token without exp, an admin’s included', () => {
    for (const role of ['user', 'admin']) {
      const forever = jwt.sign({ sub: '1', role });
      expect(() => service.verify(forever)).toThrow('The bearer token has no expiry (exp)');
    }
  });

  it('rejects a lifetime above AUTH_MAX_TOKEN_TTL_S: exp − iat, or exp − now without iat', () => {
    const t = now();
    const cases: [object, boolean][] = [
      [{ iat: t, exp: t + day }, true],
      [{ iat: t, exp: t + day + 1 }, false],
      [{ iat: t - 3600, exp: t + day - 3600 }, true],
      [{ iat: t - 3600, exp: t + day - 3599 }, false],
      [{ exp: t + day - 5 }, true],
      [{ exp: t + day + 60 }, false],
      // The year 9999.
      [{ iat: t, exp: 253_402_300_799 }, false],
      // An iat in the future does not carry a far-off exp within the bound.
      [{ iat: t + 10 * day, exp: t + 10 * day + 60 }, false],
    ];
    for (const [times, accepted] of cases) {
      // jsonwebtoken keeps a given iat, and adds one unless told not to.
      const token = jwt.sign({ sub: '7', role: 'user', ...times }, { noTimestamp: !('iat' in times) });
      const verify = () => service.verify(token);
      if (accepted) {
        expect(verify()).toEqual({ id: '7', role: 'user' });
      } else {
        expect(verify).toThrow(UnauthenticatedError);
      }
    }
  });

  it('signs dev tokens within a lower bound', () => {
    const short = new AuthService(jwt, { AUTH_MAX_TOKEN_TTL_S: 600 });
    expect(short.verify(short.sign({ id: '3', role: 'user' }))).toEqual({ id: '3', role: 'user' });
  });

  it('rejects a token that is not valid yet (nbf)', () => {
    const later = jwt.sign({ sub: '1', role: 'user', nbf: now() + 600 }, { expiresIn: 3600 });
    expect(() => service.verify(later)).toThrow(UnauthenticatedError);
  });

  it('answers a repeated token from its cache, but not after the token expired', () => {
    jest.useFakeTimers({ now: Date.now() });
    try {
      const token = jwt.sign({ sub: '5', role: 'user' }, { expiresIn: 60 });
      expect(service.verify(token)).toEqual({ id: '5', role: 'user' });
      expect(service.verify(token)).toEqual({ id: '5', role: 'user' });
      jest.advanceTimersByTime(61_000);
      expect(() => service.verify(token)).toThrow(UnauthenticatedError);
    } finally {
      jest.useRealTimers();
    }
  });
});
