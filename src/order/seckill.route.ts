import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import { AuthService } from '../auth/auth.service';
import { replyWithError } from '../common/errors/all-exceptions.filter';
import { parseId } from '../common/parse-id.pipe';
import { RateLimitPolicy } from '../rate-limit/rate-limit.policy';
import { ASYNC_ORDERS, type AsyncOrders } from './async-orders';
import { AlreadyOrderedError } from './order.errors';
import { OrderService } from './order.service';
import type { SaleRequest } from '../voucher/sale-request';

/** Path of the sale endpoint, also used for its OpenAPI entry (see `documentSeckillRoute`). */
export const SECKILL_PATH = '/voucher-order/seckill/:id';

/**
 * `POST /voucher-order/seckill/:id` as a native Fastify route. Every request of a flash sale lands
 * here, and Nest's per-request router/guard/pipe/filter machinery cost more than the sale logic
 * itself (bench:http). The route keeps the same contract and the same pieces — AuthService for the
 * bearer token, `parseId`, OrderService, and the exception filter's `replyWithError` — so the
 * behaviour is identical to a Nest controller route; only the dispatch is cheaper.
 */
@Injectable()
export class SeckillRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly orders: OrderService,
    private readonly rateLimits: RateLimitPolicy,
    /** Async mode only (AsyncOrderModule). */
    @Optional() @Inject(ASYNC_ORDERS) private readonly asyncOrders?: AsyncOrders,
  ) {}

  /** The client's address for its rate limit: nginx's X-Real-IP if the peer is a trusted proxy. */
  private clientAddress(request: FastifyRequest): string | undefined {
    return this.rateLimits.enabled
      ? this.rateLimits.clientAddress.of(request.socket.remoteAddress, request.headers['x-real-ip'])
      : undefined;
  }

  onModuleInit(): void {
    // No HTTP adapter in an application context without a server (e.g. some tests): nothing to serve.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) {
      return;
    }
    const asyncOrders = this.asyncOrders;
    if (asyncOrders) {
      // Accepted in Redis, persisted by the stream consumers: 202, the order is PENDING until then.
      fastify.post<{ Params: { id: string } }>(SECKILL_PATH, async (request, reply) => {
        let sale: SaleRequest | undefined;
        try {
          const user = this.auth.authenticate(request.headers.authorization);
          (request as { user?: AuthUser }).user = user;
          const voucherId = parseId(request.params.id);
          const clientAddress = this.clientAddress(request);
          sale = { userId: user.id, voucherId, clientAddress };
          const orderId = await asyncOrders.seckill(sale);
          return reply.status(202).send({ orderId, status: 'PENDING' });
        } catch (error) {
          // A repeat names the caller's order if MySQL has it already (one indexed read, repeats only).
          return replyWithError(
            reply,
            error instanceof AlreadyOrderedError && sale ? await this.orders.withExistingOrder(error, sale) : error,
          );
        }
      });
      return;
    }
    fastify.post<{ Params: { id: string } }>(SECKILL_PATH, async (request, reply) => {
      try {
        const user = this.auth.authenticate(request.headers.authorization);
        (request as { user?: AuthUser }).user = user;
        const voucherId = parseId(request.params.id);
        const clientAddress = this.clientAddress(request);
        const orderId = await this.orders.seckill({ userId: user.id, voucherId, clientAddress });
        return reply.status(201).send({ orderId });
      } catch (error) {
        return replyWithError(reply, error);
      }
    });
  }
}

/** Adds the native route to the OpenAPI document, which only sees Nest controllers. */
export function documentSeckillRoute(document: OpenAPIObject): void {
  // Registered by ApiErrors on the controllers (createDocument's extraModels too).
  const error = { $ref: '#/components/schemas/ErrorBody' };
  document.paths['/voucher-order/seckill/{id}'] = {
    post: {
      tags: ['voucher-order'],
      summary: 'Order one seckill voucher for the caller (one per user)',
      security: [{ bearer: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9]\\d{0,18}$' } }],
      responses: {
        '202': {
          description:
            'ORDER_MODE=async: order accepted, persisted shortly (GET /voucher-order/{orderId} shows PENDING, CREATED or FAILED)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { orderId: { type: 'string' }, status: { type: 'string', enum: ['PENDING'] } },
              },
            },
          },
        },
        '201': {
          description: 'ORDER_MODE=sync: order created',
          content: {
            'application/json': {
              schema: { type: 'object', properties: { orderId: { type: 'string', description: 'Decimal string' } } },
            },
          },
        },
        '400': { description: 'INVALID_ID', content: { 'application/json': { schema: error } } },
        '401': { description: 'UNAUTHORIZED', content: { 'application/json': { schema: error } } },
        '404': { description: 'VOUCHER_NOT_FOUND', content: { 'application/json': { schema: error } } },
        '429': {
          description:
            'RATE_LIMITED: too many order requests from this user or address (RATE_LIMIT_*); see Retry-After',
          content: { 'application/json': { schema: error } },
        },
        '409': {
          description:
            'NOT_STARTED, ENDED, SOLD_OUT, ALREADY_ORDERED (with the existing `orderId` once it is in MySQL) or LOCK_TIMEOUT',
          content: { 'application/json': { schema: error } },
        },
        '503': {
          description:
            'REDIS_UNAVAILABLE, DATABASE_UNAVAILABLE, ' +
            'ORDER_DEADLINE_EXCEEDED (sync: rolled back past ORDER_REQUEST_DEADLINE_MS), ' +
            'ORDER_OUTCOME_UNKNOWN (sync: COMMIT failed and could not be read back), LOCK_LOST, LOCK_UNAVAILABLE, ' +
            'ID_UNAVAILABLE, SALE_UNAVAILABLE (async: state being rebuilt), ORDER_BACKLOG (async: consumers behind), ' +
            'DURABILITY_UNCONFIRMED, REDIS_NOT_DURABLE (async); with Retry-After',
          content: { 'application/json': { schema: error } },
        },
      },
    },
  };
}
