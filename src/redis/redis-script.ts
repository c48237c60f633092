import { readFileSync } from 'node:fs';
import { Command } from 'ioredis';
import { LuaScript, type LockScriptClient, type ScriptArg } from '@seckill/lock/lua';
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

/**
 * `redis`'s EVALSHA and EVAL written to the connection at once instead of through its auto-pipeline,
 * for `RedisScript.call`/`run` (the same EVALSHA → EVAL fallback). For a call its caller has already
 * batched (one per event-loop turn), the auto-pipeline would only wrap it in a pipeline of its own,
 * sent one event-loop turn later: twice the client CPU per call (a 4-key, 17-argument EVALSHA:
 * 26–37 µs against 15–21 µs on this project's machine) and one turn of latency. The connection's
 * command timeout applies as to any command.
 */
export function writtenAtOnce(redis: AppRedis): LockScriptClient {
  const send = (name: 'evalsha' | 'eval', args: ScriptArg[]): Promise<unknown> => {
    const command = new Command(name, args, { replyEncoding: 'utf8' });
    void redis.sendCommand(command);
    return command.promise;
  };
  return {
    evalsha: (sha, numKeys, ...args) => send('evalsha', [sha, numKeys, ...args]),
    eval: (script, numKeys, ...args) => send('eval', [script, numKeys, ...args]),
  };
}
