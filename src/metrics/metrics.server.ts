import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ReadinessCheck } from '../health/readiness.check';
import { MetricsService } from './metrics.service';

/** One answer of the internal listener. */
export interface InternalAnswer {
  status: number;
  contentType: string;
  body: string;
}

const json = (status: number, value: unknown): InternalAnswer => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(value),
});

/**
 * The internal listener on METRICS_PORT: Prometheus metrics and readiness with its details (which
 * dependency is down). Neither is for the public: the Node version, memory, request volumes, order
 * outcomes and dead letters stay inside, and nginx never proxies this port. A plain `node:http`
 * server (not a second Fastify) — two routes, GET only.
 */
@Injectable()
export class MetricsServer implements OnApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly metrics: MetricsService,
    private readonly readiness: ReadinessCheck,
  ) {}

  /** What a request for `url` gets; also what tests call instead of opening the port. */
  async answer(method: string, url: string): Promise<InternalAnswer> {
    const path = url.split('?')[0];
    if (path !== '/metrics' && path !== '/health/ready') {
      return json(404, { code: 'NOT_FOUND', message: 'Not found' });
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return json(405, { code: 'METHOD_NOT_ALLOWED', message: 'Only GET is served here' });
    }
    if (path === '/metrics') {
      return { status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.metrics() };
    }
    const details = await this.readiness.details();
    return json(details.status === 'ok' ? 200 : 503, details);
  }

  /** Starts listening (main only: tests and in-process apps do not open the port). */
  async listen(port: number, host: string): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    // A scraper holds a connection or two; nobody else should hold any for long.
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let answer: InternalAnswer;
    try {
      answer = await this.answer(request.method ?? 'GET', request.url ?? '/');
    } catch {
      answer = json(500, { code: 'INTERNAL_ERROR', message: 'Internal server error' });
    }
    response.writeHead(answer.status, {
      'content-type': answer.contentType,
      'content-length': Buffer.byteLength(answer.body),
    });
    response.end(request.method === 'HEAD' ? undefined : answer.body);
  }
}
