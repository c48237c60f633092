import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AuthService } from '../auth/auth.service';
import { replyWithError } from '../common/errors/all-exceptions.filter';
import { parseId } from '../common/parse-id.pipe';
import { appConfig, type AppConfig } from '../config/app-config';

/**
 * BENCHMARK ONLY (`BENCH_NOOP_ROUTE=true`): `POST /bench/noop/:id`, the baseline of bench:seckill —
 * everything the sale route does (native Fastify route, bearer token, id parsing, error mapping)
 * except the sale itself. Not registered otherwise.
 */
@Injectable()
export class BenchNoopRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || !this.config.BENCH_NOOP_ROUTE) {
      return;
    }
    fastify.post<{ Params: { id: string } }>('/bench/noop/:id', async (request, reply) => {
      try {
        this.auth.authenticate(request.headers.authorization);
        parseId(request.params.id);
        return reply.status(200).send({ ok: true });
      } catch (error) {
        return replyWithError(reply, error);
      }
    });
  }
}
