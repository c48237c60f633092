import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationPipe } from '@nestjs/common';
import { ApplicationConfig, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponse } from './common/errors/api-errors.decorator';
import { replyWithError } from './common/errors/all-exceptions.filter';
import { answerClientError } from './common/errors/fastify-errors';
import { serveApiDocs } from './docs/docs-ui';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { validateEnvironment } from './config/environment';
import { installRequestLog } from './common/request-log';
import { installRejectedBodyDrain } from './common/rejected-body-drain';
import { requestIdOf } from './common/request-id';
import { ShutdownState } from './health/shutdown-state';
import { HttpMetrics } from './metrics/http-metrics';
import { MetricsServer } from './metrics/metrics.server';
import { assertRedisDurable } from './order/async/redis-durability.check';
import { documentSeckillRoute } from './order/seckill.route';

/** Creates the configured Fastify-based app (shared by main and the tests). */
export async function createApp(): Promise<NestFastifyApplication> {
  // Validate before Nest starts so a bad environment fails with one clear message.
  const env = validateEnvironment(process.env);
  // Before Nest starts anything: a refused start leaves no connection or timer behind.
  await assertRedisDurable(env);
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: true,
    // One id per request for every log line about it: nginx's X-Request-Id, else a fresh UUID.
    genReqId: (request: IncomingMessage) => requestIdOf(request.headers),
    // What Fastify's router and Node's HTTP parser refuse before any route runs (bad percent-encoding,
    // a path parameter above maxParamLength, headers above 16 KiB) in the API's shape, not Fastify's
    // own body that repeats the path.
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('x-instance-id', env.INSTANCE_ID);
      void replyWithError(reply, error);
    },
    clientErrorHandler: answerClientError(env.INSTANCE_ID),
    // Bounds for connections made straight to a replica (a Service, a health checker); nginx has its own.
    keepAliveTimeout: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
      // Node checks both timeouts on this interval (30 s by default, which would let an idle
      // connection live up to 30 s past its bound).
      connectionsCheckingInterval: Math.min(1000, env.HTTP_HEADERS_TIMEOUT_MS),
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forEnvironment(env), adapter, {
    bufferLogs: true,
    abortOnError: false,
    // Nest would add a urlencoded parser (and its own copy of Fastify's JSON one): the API takes JSON only.
    bodyParser: false,
  });
  dropNoopEnhancers(app.get(ApplicationConfig));
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  const shutdown = app.get(ShutdownState);
  // Fastify also parses text/plain bodies by default, which then failed validation as 400; every
  // body the API takes is JSON, so anything else is 415 UNSUPPORTED_MEDIA_TYPE, as documented.
  fastify.removeContentTypeParser('text/plain');
  if (env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace') {
    installRequestLog(fastify);
  }
  if (env.HTTP_METRICS_ENABLED) {
    app.get(HttpMetrics).install(fastify);
  }
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.header('x-instance-id', env.INSTANCE_ID);
    // While draining, answers close their connection, so keep-alive clients do not hold the
    // server open after the last in-flight request.
    if (shutdown.draining) {
      void reply.header('connection', 'close');
    }
    done();
  });
  installRejectedBodyDrain(fastify);
  fastify.addHook('onSend', (_request, reply, _payload, done) => {
    if (shutdown.draining) {
      void reply.header('connection', 'close');
    }
    done();
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle('Seckill').setVersion('1').addBearerAuth().build(),
    { extraModels: [ErrorResponse] },
  );
  documentSeckillRoute(document);
  serveApiDocs(fastify, document);
  return app;
}

/**
 * nestjs-cls always registers a global interceptor and guard, which are no-ops unless mounted (we
 * do not mount them: transactions open their own CLS context). A no-op interceptor still costs
 * every request Nest's interceptor pipeline (rxjs + two AsyncResource.bind), measured at ~10% of
 * the sale endpoint's CPU, so they are dropped before the routes are built.
 */
function dropNoopEnhancers(config: ApplicationConfig): void {
  const interceptors = config.getGlobalInterceptors();
  for (let i = interceptors.length - 1; i >= 0; i--) {
    if (Object.getPrototypeOf(interceptors[i]) === Object.prototype) {
      interceptors.splice(i, 1);
    }
  }
  const guards = config.getGlobalGuards();
  for (let i = guards.length - 1; i >= 0; i--) {
    if (Object.getPrototypeOf(guards[i]) === Object.prototype) {
      guards.splice(i, 1);
    }
  }
}

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const env = validateEnvironment(process.env);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // In-flight requests drain through app.close(); this bounds how long that may take.
      setTimeout(() => process.exit(1), env.SHUTDOWN_DRAIN_MS).unref();
    });
  }
  await app.listen({ port: env.PORT, host: '0.0.0.0' });
  await app.get(MetricsServer).listen(env.METRICS_PORT, '0.0.0.0');
}

if (require.main === module) {
  bootstrap().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
