import { readFileSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Command, type Redis } from 'ioredis';
import { LuaScript, type LockRedisClient, type LockScriptClient, type ScriptArg } from '@seckill/lock/lua';
import type { AppRedis } from './redis-connections';

/**
 * The app's Lua scripts: `LuaScript` (the lock library's EVALSHA-with-EVAL-fallback runner) over the
 * sources the `*.lua.ts` modules beside their users export — one convention with the library's.
 */
export class RedisScript extends LuaScript {
  /** Reads `<dir>/<file>`: for scripts outside the app (the benchmarks' baselines, tests). */
  static fromFile(dir: string, file: string, keys: number | readonly [number, number]): RedisScript {
    return new RedisScript(file, readFileSync(`${dir}/${file}`, 'utf8'), keys);
  }

  /** A script of the repository (its `*.lua.ts` module's source) under its name, taking `keys` KEYS. */
  static of(name: string, source: string, keys: number | readonly [number, number]): RedisScript {
    return new RedisScript(name, source, keys);
  }

  /**
   * A script with shared Lua functions prepended (e.g. `TOKEN_BUCKET_LUA`): Redis has no include, and
   * one chunk keeps the call a single EVALSHA.
   */
  static withPrelude(
    prelude: string,
    script: { name: string; source: string; keys: number | readonly [number, number] },
  ): RedisScript {
    return new RedisScript(script.name, prelude + script.source, script.keys);
  }
}

/** EVALSHA and EVAL as ioredis `Command`s written through `sendCommand`, after `beforeWrite` (if given). */
function scriptCalls(redis: AppRedis, beforeWrite?: () => void): LockScriptClient {
  const send = (name: 'evalsha' | 'eval', args: ScriptArg[]): Promise<unknown> => {
    beforeWrite?.();
    const command = new Command(name, args, { replyEncoding: 'utf8' });
    void redis.sendCommand(command);
    return command.promise;
  };
  return {
    evalsha: (sha, numKeys, ...args) => send('evalsha', [sha, numKeys, ...args]),
    eval: (script, numKeys, ...args) => send('eval', [script, numKeys, ...args]),
  };
}

/**
 * `redis`'s EVALSHA and EVAL written to the connection at once instead of through its auto-pipeline,
 * for `RedisScript.call`/`run` (the same EVALSHA → EVAL fallback). For a call its caller has already
 * batched (one per event-loop turn), the auto-pipeline would only wrap it in a pipeline of its own,
 * sent one event-loop turn later: twice the client CPU per call (a 4-key, 17-argument EVALSHA:
 * 26–37 µs against 15–21 µs on this project's machine) and one turn of latency. The connection's
 * command timeout applies as to any command.
 */
export function writtenAtOnce(redis: AppRedis): LockScriptClient {
  return scriptCalls(redis);
}

/** The async context at start-up: the uncork callback belongs to no request. */
const atStartUp: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();

/**
 * `redis` for the lock library, its script calls (EVALSHA, and EVAL after NOSCRIPT) sent as the
 * auto-pipeline would — every call of one event-loop turn in one socket write — but without its
 * Pipeline: the socket is corked at the turn's first call and uncorked at the turn's end
 * (`setImmediate`, where the auto-pipeline flushes too), and each call is a `Command` written through
 * `sendCommand` as in `writtenAtOnce`. The lock's other commands go to `redis` as they are.
 *
 * The lock's acquire and release are two calls of their own per synchronous order, one at a time per
 * caller: through the auto-pipeline each costs its share of a Pipeline, its promises and callbacks;
 * written at once, a `write` syscall each (dear on loopback). See docs/BENCHMARKS.md ("The lock's
 * calls written per turn, and two round trips per batch"). A Cluster routes each command to a node's
 * connection: it keeps `redis` (its auto-pipeline).
 */
export function writtenPerTurn(redis: AppRedis): LockRedisClient {
  if (redis.isCluster) {
    return redis;
  }
  const server = redis as Redis;
  let corked: Redis['stream'] | undefined;
  const uncork = () => {
    const socket = corked;
    corked = undefined;
    socket?.uncork();
  };
  // Not ready: the command waits in ioredis' offline queue, flushed on connect without a cork.
  const corkForTurn = () => {
    if (corked === undefined && server.status === 'ready' && server.stream.writable) {
      corked = server.stream;
      corked.cork();
      atStartUp(() => setImmediate(uncork));
    }
  };
  return {
    ...scriptCalls(server, corkForTurn),
    script: (subcommand, script) => server.script(subcommand, script),
    pipeline: () => server.pipeline(),
    hexists: (key, field) => server.hexists(key, field),
    pttl: (key) => server.pttl(key),
    duplicate: () => server.duplicate(),
  };
}
