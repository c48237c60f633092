import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from './metrics.service';

/** Label value for requests no route matched (the raw path is unbounded: never a label). */
const UNMATCHED = 'unmatched';

/**
 * Per-replica HTTP series in Prometheus conventions, for every route — Nest controllers and the
 * native Fastify sale route alike, since it hooks Fastify itself: `http_requests_total` and
 * `http_request_duration_seconds` by method, route template (`/voucher-order/seckill/:id`, never the
 * raw path) and status code.
 */
@Injectable()
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status_code'>;
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;
  /** Label children bound once per (method, route, status): prom-client hashes labels on every call otherwise. */
  private readonly children = new Map<string, { count: Counter.Internal; time: { observe(value: number): void } }>();

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    const labelNames = ['method', 'route', 'status_code'] as const;
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered by this replica',
      labelNames,
      registers,
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the request arriving to its answer being sent',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /** Hooks Fastify (call before the routes are built, i.e. before `init`/`listen`). */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onResponse', (request, reply, done) => {
      this.record(request, reply);
      done();
    });
  }

  private record(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url ?? UNMATCHED;
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let child = this.children.get(key);
    if (!child) {
      // Methods and status codes are bounded by what Fastify accepts; routes by the app's table.
      const labels = { method: request.method, route, status_code: String(reply.statusCode) };
      child = { count: this.requests.labels(labels), time: this.duration.labels(labels) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.time.observe(reply.elapsedTime / 1000);
  }
}
