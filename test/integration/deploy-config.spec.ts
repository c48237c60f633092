import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../scripts/stack/app-replica';
import { findBinary } from '../../scripts/stack/binaries';
import { renderLocalNginxConfig } from '../../scripts/stack/nginx';
import { testDir } from '../support/shared-stack';
import { Environment } from '../../src/config/environment';

const run = promisify(execFile);

/** `nginx -t`; `ownPid` = the config sets its own pid file (the local template does). */
async function nginxTest(conf: string, ownPid = false): Promise<string> {
  const prefix = testDir('nginx-t');
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const { stderr } = await run(findBinary('nginx'), [
    '-t',
    '-p',
    prefix,
    '-c',
    conf,
    '-e',
    join(prefix, 'error.log'),
    ...(ownPid ? [] : ['-g', `pid ${join(prefix, 'nginx.pid')};`]),
  ]);
  return stderr;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  container_name?: string;
  ports?: unknown[];
  expose?: string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  environment?: Record<string, string>;
}

const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);

describe('Deployment configuration (static checks; no Docker engine here)', () => {
  it('ships an nginx.conf for compose that nginx -t accepts', async () => {
    expect(await nginxTest(join(PROJECT_ROOT, 'nginx/nginx.conf'))).toContain('test is successful');
  });

  it('re-resolves replicas through Docker DNS and never retries POST', () => {
    const conf = readFileSync(join(PROJECT_ROOT, 'nginx/nginx.conf'), 'utf8');
    expect(conf).toMatch(/resolver 127\.0\.0\.11 valid=\d+s/);
    // A variable in proxy_pass is what makes nginx resolve at request time.
    expect(conf).toMatch(/set \$\w+ http:\/\/app:3000;/);
    expect(conf).toMatch(/proxy_pass \$\w+;/);
    expect(conf).toMatch(/proxy_next_upstream error timeout;/);
    expect(conf).not.toContain('non_idempotent');
    expect(conf).toMatch(/add_header X-Upstream \$upstream_addr always;/);
  });

  it('stops bodies at the app’s default BODY_LIMIT_BYTES in both configs', () => {
    const limit = new Environment().BODY_LIMIT_BYTES;
    for (const file of ['nginx/nginx.conf', 'nginx/local.conf.template']) {
      const size = /client_max_body_size (\d+)k;/.exec(readFileSync(join(PROJECT_ROOT, file), 'utf8'))?.[1];
      expect({ file, bytes: Number(size) * 1024 }).toEqual({ file, bytes: limit });
    }
  });

  it('answers nginx’s own errors in the API’s JSON shape in both configs (the same pages)', () => {
    const pages = (file: string) =>
      readFileSync(join(PROJECT_ROOT, file), 'utf8')
        .split('\n')
        .filter((line) => /^\s*(error_page|return (400|413|414|431|503) )/.test(line))
        .map((line) => line.trim());
    const compose = pages('nginx/nginx.conf');
    expect(compose).toEqual(pages('nginx/local.conf.template'));
    for (const status of ['400', '413', '414', '494', '502 503 504']) {
      expect(compose.some((line) => line.startsWith(`error_page ${status} `))).toBe(true);
    }
    for (const code of [
      'BAD_REQUEST',
      'PAYLOAD_TOO_LARGE',
      'URI_TOO_LONG',
      'HEADERS_TOO_LARGE',
      'UPSTREAM_UNAVAILABLE',
    ]) {
      expect(compose.some((line) => line.includes(`"code":"${code}"`))).toBe(true);
    }
  });

  it('refuses /metrics in both configs instead of proxying it (metrics live on the internal METRICS_PORT)', () => {
    for (const file of ['nginx/nginx.conf', 'nginx/local.conf.template']) {
      const conf = readFileSync(join(PROJECT_ROOT, file), 'utf8');
      expect({
        file,
        refused: conf.includes('location ~ ^/metrics(/|$) {\n      default_type application/json;\n      return 404'),
      }).toEqual({
        file,
        refused: true,
      });
    }
  });

  it('renders a local nginx config that nginx -t accepts', async () => {
    const dir = testDir('nginx-local');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const file = join(dir, 'nginx.conf');
    writeFileSync(file, renderLocalNginxConfig(18080, [13001, 13002, 13003], dir));
    expect(await nginxTest(file, true)).toContain('test is successful');
  });

  describe('docker-compose.yml', () => {
    const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, ComposeService>;
    };
    const app = compose.services.app;

    it('has mysql 8, redis 7, app and nginx services', () => {
      expect(compose.services.mysql.image).toMatch(/^mysql:8/);
      expect(compose.services.redis.image).toMatch(/^redis:7/);
      expect(app.build).toBeDefined();
      expect(compose.services.nginx.image).toMatch(/^nginx:/);
    });

    it('lets app scale: no container_name, no host ports, an exposed port', () => {
      expect(app.container_name).toBeUndefined();
      expect(app.ports).toBeUndefined();
      expect(app.expose).toContain('3000');
    });

    it('health-checks app on /health/ready and waits longer than the drain time on stop', () => {
      expect(app.healthcheck?.test.join(' ')).toContain('/health/ready');
      expect(seconds(app.stop_grace_period ?? '')).toBeGreaterThan(Number(app.environment?.SHUTDOWN_DRAIN_MS) / 1000);
    });

    it('runs Redis durably enough for ORDER_MODE=async (AOF, fsync on every write, no eviction, a volume)', () => {
      const redis = compose.services.redis as ComposeService & { command?: string[]; volumes?: string[] };
      const command = (redis.command ?? []).join(' ');
      expect(command).toContain('--appendonly yes');
      // Always by default; REDIS_APPENDFSYNC=everysec only for a sync-mode deployment.
      expect(command).toContain('--appendfsync ${REDIS_APPENDFSYNC:-always}');
      expect(command).toContain('--maxmemory-policy noeviction');
      expect(redis.volumes?.some((volume) => volume.endsWith(':/data'))).toBe(true);
      expect(app.environment?.ORDER_MODE).toMatch(/^\$\{ORDER_MODE:-sync\}$/);
    });

    it('mounts the shipped nginx.conf', () => {
      expect(JSON.stringify(compose.services.nginx)).toContain('./nginx/nginx.conf:/etc/nginx/nginx.conf');
    });
  });

  describe('Dockerfile', () => {
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');

    it('is multi-stage, runs as a non-root user and uses an exec-form CMD', () => {
      expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
      expect(dockerfile).toMatch(/^USER (?!root)\w+/m);
      const cmd = /^CMD (.+)$/m.exec(dockerfile)?.[1] ?? '';
      expect(JSON.parse(cmd)).toEqual(['node', 'dist/main.js']);
    });

    it('links the lock workspace package: its manifest before npm ci, its build in the runtime image', () => {
      const [build, runtime] = dockerfile.split(/^FROM .+ AS runtime$/m);
      const manifest = build.indexOf('COPY packages/lock/package.json ');
      expect(manifest).toBeGreaterThan(-1);
      expect(manifest).toBeLessThan(build.indexOf('RUN npm ci'));
      expect(build).toMatch(/^COPY packages\/lock\/src /m);
      expect(runtime).toMatch(/^COPY --from=build .*\/app\/packages\/lock\/package\.json /m);
      expect(runtime).toMatch(/^COPY --from=build .*\/app\/packages\/lock\/dist /m);
    });
  });
});
