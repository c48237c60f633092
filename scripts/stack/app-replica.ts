import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ManagedProcess } from './managed-process';
import { freePort } from './ports';

export const PROJECT_ROOT = resolve(__dirname, '../..');
export const APP_ENTRY = join(PROJECT_ROOT, 'dist/main.js');

/**
 * One app replica: `node dist/main.js` as a real child process with its own PORT, METRICS_PORT (the
 * internal listener: /metrics, readiness details) and INSTANCE_ID.
 */
export class AppReplica {
  readonly process: ManagedProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly metricsPort: number,
    readonly instanceId: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.process = new ManagedProcess({
      name: instanceId,
      command: process.execPath,
      args: [APP_ENTRY],
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env, PORT: String(port), METRICS_PORT: String(metricsPort), INSTANCE_ID: instanceId },
      logFile: join(dir, `${instanceId}.log`),
      // Both listeners: the internal one opens right after the public one.
      ready: async () =>
        (await fetch(`${this.url}/health/ready`)).ok && (await fetch(`${this.metricsUrl}/health/ready`)).ok,
      readyTimeoutMs: 60_000,
    });
  }

  static async start(dir: string, instanceId: string, env: NodeJS.ProcessEnv): Promise<AppReplica> {
    mkdirSync(dir, { recursive: true });
    const replica = new AppReplica(dir, await freePort(), await freePort(), instanceId, env);
    await replica.process.start();
    return replica;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The internal listener (METRICS_PORT): `/metrics` and `/health/ready` with details. Not behind nginx. */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  stop(): Promise<void> {
    return this.process.stop(15_000);
  }
}
