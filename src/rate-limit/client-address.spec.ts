import { ClientAddress, isAddressOrCidr } from './client-address';

describe('ClientAddress', () => {
  const addresses = new ClientAddress(['127.0.0.0/8', '10.0.0.0/8', '::1/128', '192.168.1.7']);

  it("takes X-Real-IP from a trusted proxy and the socket's address from anyone else", () => {
    expect(addresses.of('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(addresses.of('10.1.2.3', '2001:db8::1')).toBe('2001:db8::1');
    expect(addresses.of('192.168.1.7', '203.0.113.9')).toBe('203.0.113.9');
    // Not a proxy we trust: its header is ignored, whatever it claims.
    expect(addresses.of('198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
    expect(addresses.of('192.168.1.8', '203.0.113.9')).toBe('192.168.1.8');
  });

  it('ignores a header that is not one address, and maps IPv4-on-IPv6 peers', () => {
    expect(addresses.of('127.0.0.1', '203.0.113.9, 10.0.0.1')).toBe('127.0.0.1');
    expect(addresses.of('127.0.0.1', 'evil')).toBe('127.0.0.1');
    expect(addresses.of('127.0.0.1', ['203.0.113.9', '203.0.113.10'])).toBe('127.0.0.1');
    expect(addresses.of('127.0.0.1', undefined)).toBe('127.0.0.1');
    expect(addresses.of('::ffff:127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(addresses.of('::ffff:198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
    expect(addresses.of('::1', '203.0.113.9')).toBe('203.0.113.9');
    expect(addresses.of(undefined, '203.0.113.9')).toBe('unknown');
  });

  it('validates address and CIDR entries', () => {
    for (const good of ['10.0.0.0/8', '127.0.0.1', '::1/128', 'fc00::/7', '0.0.0.0/0']) {
      expect(isAddressOrCidr(good)).toBe(true);
    }
    for (const bad of ['10.0.0.0/33', '::1/129', 'localhost', '10.0.0.0/8/1', '10.0.0.0/x', '']) {
      expect(isAddressOrCidr(bad)).toBe(false);
    }
  });
});
