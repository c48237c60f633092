import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../scripts/stack/app-replica';
import { Environment } from '../../src/config/environment';

const K8S = join(PROJECT_ROOT, 'deploy/k8s');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // The parts read below; manifests are checked field by field.
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Every document of every YAML file in deploy/k8s but the kustomization. */
function manifests(): Manifest[] {
  return readdirSync(K8S)
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) {
          throw new Error(`${file}: ${doc.errors.map((error) => error.message).join('; ')}`);
        }
        return doc.toJS() as Manifest;
      }),
    );
}

const one = (kind: string, all = manifests()) => {
  const found = all.filter((manifest) => manifest.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};

/** The environment names of the README's configuration table. */
function documentedEnv(): Set<string> {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  return new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1]));
}

/** The app's routes under /health, read from its controller's decorators. */
function healthRoutes(): string[] {
  const source = readFileSync(join(PROJECT_ROOT, 'src/health/health.controller.ts'), 'utf8');
  const base = /@Controller\('([^']+)'\)/.exec(source)?.[1];
  return [...source.matchAll(/@Get\('([^']+)'\)/g)].map((match) => `/${base}/${match[1]}`);
}

describe('Kubernetes manifests (deploy/k8s; parsed and checked statically, no cluster here)', () => {
  it('parses, and the kustomization lists every manifest file', () => {
    const all = manifests();
    expect(all.length).toBeGreaterThan(0);
    for (const manifest of all) {
      expect(manifest).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
      expect(manifest.metadata.name).toMatch(/^[a-z0-9-]+$/);
    }
    const kustomization = parseAllDocuments(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'))[0].toJS() as {
      resources: string[];
    };
    const files = readdirSync(K8S).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(all.map((manifest) => manifest.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Job',
        'Namespace',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'Service',
        'Service',
      ].sort(),
    );
  });

  it('probes the app’s own health routes on its port, and runs `node dist/main.js`', () => {
    const deployment = one('Deployment');
    const [container] = deployment.spec.template.spec.containers;
    const port = (container.ports as { name: string; containerPort: number }[]).find((entry) => entry.name === 'http')!;
    expect(port.containerPort).toBe(new Environment().PORT);
    expect(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).toContain(`EXPOSE ${port.containerPort}`);
    expect(healthRoutes()).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.command).toEqual(['node', 'dist/main.js']);
  });

  it('scrapes metrics on the internal METRICS_PORT, which the Service does not carry', () => {
    const all = manifests();
    const deployment = one('Deployment', all);
    const [container] = deployment.spec.template.spec.containers;
    const ports = container.ports as { name: string; containerPort: number }[];
    const metricsPort = Number(one('ConfigMap', all).data?.METRICS_PORT ?? new Environment().METRICS_PORT);
    expect(ports.find((entry) => entry.name === 'metrics')?.containerPort).toBe(metricsPort);
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metricsPort),
      'prometheus.io/path': '/metrics',
    });
    const app = all.find((manifest) => manifest.kind === 'Service' && manifest.spec.selector);
    expect((app?.spec.ports as { targetPort: unknown }[]).map((port) => port.targetPort)).toEqual(['http']);
    expect(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).toMatch(
      new RegExp(`^EXPOSE .*\\b${metricsPort}\\b`, 'm'),
    );
  });

  it('outlasts the drain on shutdown: grace period > preStop + SHUTDOWN_DRAIN_MS', () => {
    const all = manifests();
    const pod = one('Deployment', all).spec.template.spec;
    const drainMs = Number(one('ConfigMap', all).data?.SHUTDOWN_DRAIN_MS ?? new Environment().SHUTDOWN_DRAIN_MS);
    const preStop = pod.containers[0].lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopMs + drainMs);
  });

  it('runs as non-root with a read-only root filesystem, no privilege escalation, and resources set', () => {
    const all = manifests();
    for (const pod of [one('Deployment', all).spec.template.spec, one('Job', all).spec.template.spec]) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources.limits.memory).toEqual(expect.any(String));
      }
    }
  });

  it('uses only documented environment names, sets the required ones, and a unique INSTANCE_ID per pod', () => {
    const all = manifests();
    const documented = documentedEnv();
    const config = Object.keys(one('ConfigMap', all).data ?? {});
    const secrets = Object.keys(one('Secret', all).stringData ?? {});
    const container = one('Deployment', all).spec.template.spec.containers[0];
    const explicit = (container.env as { name: string }[]).map((entry) => entry.name);
    for (const name of [...config, ...secrets, ...explicit]) {
      expect({ name, documented: documented.has(name) }).toEqual({ name, documented: true });
      expect(name in new Environment()).toBe(true);
    }
    expect(secrets).toEqual(expect.arrayContaining(['MYSQL_URL', 'REDIS_URL', 'AUTH_JWT_SECRET']));
    expect(container.envFrom).toEqual([
      { configMapRef: { name: one('ConfigMap', all).metadata.name } },
      { secretRef: { name: one('Secret', all).metadata.name } },
    ]);
    expect(container.env).toContainEqual({
      name: 'INSTANCE_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
  });

  it('wires Service, HPA and PDB to the Deployment’s pods, and migrates with `npm run migration:run`', () => {
    const all = manifests();
    const deployment = one('Deployment', all);
    const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    const app = all.find((manifest) => manifest.kind === 'Service' && manifest.spec.selector);
    expect(app?.spec.selector).toEqual(podLabels);
    expect(app?.spec.ports[0].targetPort).toBe('http');
    const hpa = one('HorizontalPodAutoscaler', all);
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = one('PodDisruptionBudget', all);
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels);
    const externals = all.filter((manifest) => manifest.kind === 'Service' && manifest.spec.type === 'ExternalName');
    expect(externals.map((manifest) => manifest.metadata.name).sort()).toEqual(['mysql', 'redis']);
    const job = one('Job', all);
    expect(job.spec.template.spec.containers[0].command).toEqual(['npm', 'run', 'migration:run']);
    expect(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts['migration:run']).toBeDefined();
  });
});
