import { createHash } from 'node:crypto';

/** `prefix + name` if it fits in `max` characters, else the prefix and a hash of the name. */
export function boundedName(prefix: string, name: string, max: number): string {
  const full = prefix + name;
  return full.length <= max ? full : `${prefix}#${createHash('sha256').update(name).digest('base64url')}`.slice(0, max);
}
