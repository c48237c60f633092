import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Which peers may tell the client's address (nginx's `X-Real-IP`): a request from anywhere else is
 * counted by its own socket address, whatever headers it sends — so a script cannot spread its
 * requests over invented addresses.
 */
export class ClientAddress {
  private readonly trusted = new BlockList();

  /** @param trustedProxies CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses. */
  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address, bits] = entry.split('/');
      const family = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits === undefined) {
        this.trusted.addAddress(address, family);
      } else {
        this.trusted.addSubnet(address, Number(bits), family);
      }
    }
  }

  /** The client's address: `X-Real-IP` when the peer is a trusted proxy and the header is an address, else the peer. */
  of(peer: string | undefined, realIpHeader: string | string[] | undefined): string {
    const socketAddress = normalise(peer ?? 'unknown');
    if (typeof realIpHeader !== 'string' || !this.isTrusted(socketAddress)) {
      return socketAddress;
    }
    const claimed = normalise(realIpHeader.trim());
    return isIPv4(claimed) || isIPv6(claimed) ? claimed : socketAddress;
  }

  private isTrusted(address: string): boolean {
    if (isIPv4(address)) {
      return this.trusted.check(address, 'ipv4');
    }
    return isIPv6(address) && this.trusted.check(address, 'ipv6');
  }
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) → `127.0.0.1`. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** Valid CIDR or address list entry (for the environment's validation). */
export function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined) {
    return false;
  }
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (max < 0) {
    return false;
  }
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
}
