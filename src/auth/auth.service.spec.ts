import { JwtService } from '@nestjs/jwt';
import { UnauthenticatedError } from './auth.errors';
import { AuthService } from './auth.service';

const secret = 's'.repeat(32);
const service = new AuthService(new JwtService({ secret, signOptions: { algorithm: 'HS256' } }));

describe(AuthService.name, () => {
  it('round-trips a user through a token', () => {
    expect(service.verify(service.sign({ id: '9007199254740993', role: 'admin' }))).toEqual({
      id: '9007199254740993',
      role: 'admin',
    });
  });

  it('rejects a token signed with another secret', () => {
    const other = new JwtService({ secret: 'o'.repeat(32) }).sign({ sub: '1', role: 'user' });
    expect(() => service.verify(other)).toThrow(UnauthenticatedError);
  });

  it('rejects tokens whose sub is not a positive integer string or whose role is unknown', () => {
    const jwt = new JwtService({ secret });
    for (const claims of [
      { sub: 1, role: 'user' },
      { sub: '0', role: 'user' },
      { sub: '-3', role: 'user' },
      { sub: '12', role: 'root' },
    ]) {
      expect(() => service.verify(jwt.sign(claims))).toThrow(UnauthenticatedError);
    }
  });

  it('rejects an expired token', () => {
    const expired = new JwtService({ secret }).sign({
      sub: '1',
      role: 'user',
      exp: Math.floor(Date.now() / 1000) - 10,
    });
    expect(() => service.verify(expired)).toThrow(UnauthenticatedError);
  });

  it('answers a repeated token from its cache, but not after the token expired', () => {
    jest.useFakeTimers({ now: Date.now() });
    try {
      const token = new JwtService({ secret }).sign({ sub: '5', role: 'user' }, { expiresIn: 60 });
      expect(service.verify(token)).toEqual({ id: '5', role: 'user' });
      expect(service.verify(token)).toEqual({ id: '5', role: 'user' });
      jest.advanceTimersByTime(61_000);
      expect(() => service.verify(token)).toThrow(UnauthenticatedError);
    } finally {
      jest.useRealTimers();
    }
  });
});
