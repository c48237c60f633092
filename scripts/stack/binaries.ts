import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const packages: Record<string, string> = {
  mariadbd: 'mariadb-server',
  'mariadb-install-db': 'mariadb-server',
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  nginx: 'nginx',
};

/** Finds a server binary on PATH (plus the sbin folders), or says which Debian package provides it. */
export function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  const pkg = packages[name] ?? name;
  throw new Error(`${name} not found: install it with \`$(command -v sudo) apt-get install -y ${pkg}\``);
}
