import { createHash } from 'node:crypto';
import type { LockRedisClient, LockScriptClient, ScriptArg } from './redis-client';

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * A Lua script run by SHA (EVALSHA), falling back to EVAL on NOSCRIPT (a restarted or failed-over
 * server has an empty script cache). Works with any connection, so one script serves every node of
 * a RedLock. The source is a string: the library ships its scripts embedded, never read from disk.
 */
export class LuaScript {
  readonly sha: string;
  private readonly minKeys: number;
  private readonly maxKeys: number;

  /** @param keys how many KEYS the script takes, or `[min, max]` when trailing keys are optional. */
  constructor(
    readonly name: string,
    readonly source: string,
    keys: number | readonly [number, number],
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
    [this.minKeys, this.maxKeys] = typeof keys === 'number' ? [keys, keys] : keys;
  }

  /**
   * EVALSHA, falling back to EVAL on NOSCRIPT. `mapError` turns any other failure into the
   * caller's error type inside the same handler.
   */
  run<T = unknown>(
    client: LockScriptClient,
    keys: readonly string[],
    args: ScriptArg[],
    mapError?: (error: unknown) => Error,
  ): Promise<T> {
    return this.call(client, keys, args, (reply: T) => reply, mapError);
  }

  /**
   * `run` with the reply handler attached in the same step: one promise (and one microtask) per
   * call instead of two, for the lock's hot path.
   */
  call<T, R>(
    client: LockScriptClient,
    keys: readonly string[],
    args: ScriptArg[],
    onReply: (reply: T) => R | PromiseLike<R>,
    mapError?: (error: unknown) => Error,
  ): Promise<R> {
    if (!this.takes(keys)) {
      return Promise.reject(this.keyCountError(keys));
    }
    return (client.evalsha(this.sha, keys.length, ...keys, ...args) as Promise<T>).then(onReply, (error: unknown) => {
      if (!isNoScript(error)) {
        throw mapError ? mapError(error) : error;
      }
      return (client.eval(this.source, keys.length, ...keys, ...args) as Promise<T>).then(
        onReply,
        (retryError: unknown) => {
          throw mapError ? mapError(retryError) : retryError;
        },
      );
    });
  }

  /** SCRIPT LOAD on a connection, e.g. before pipelining EVALSHA after a restart. */
  async load(client: LockRedisClient): Promise<void> {
    await client.script('LOAD', this.source);
  }

  /**
   * Runs a batch of calls of this script in one pipeline (one round trip). If the server lost its
   * script cache the batch is retried once after SCRIPT LOAD. Per-call errors are returned, not thrown.
   * On a Cluster the calls' keys live in many slots, which one pipeline may not span, and SCRIPT LOAD
   * would reach one random node: there every call is its own EVALSHA (with its own EVAL fallback),
   * all sent at once — ioredis groups them per node.
   */
  async runPipeline<T = unknown>(
    client: LockRedisClient,
    calls: { keys: string[]; args: ScriptArg[] }[],
  ): Promise<(T | Error)[]> {
    if (client.isCluster) {
      return Promise.all(
        calls.map((call) =>
          this.run<T>(client, call.keys, call.args).catch((error: unknown) =>
            error instanceof Error ? error : new Error(String(error)),
          ),
        ),
      );
    }
    const exec = async () => {
      const pipeline = client.pipeline();
      for (const call of calls) {
        if (!this.takes(call.keys)) {
          throw this.keyCountError(call.keys);
        }
        pipeline.evalsha(this.sha, call.keys.length, ...call.keys, ...call.args);
      }
      return (await pipeline.exec()) ?? [];
    };
    let results = await exec();
    if (results.some(([error]) => isNoScript(error))) {
      await this.load(client);
      results = await exec();
    }
    return results.map(([error, value]) => (error ? error : (value as T)));
  }

  private takes(keys: readonly string[]): boolean {
    return keys.length >= this.minKeys && keys.length <= this.maxKeys;
  }

  private keyCountError(keys: readonly string[]): Error {
    const expected = this.minKeys === this.maxKeys ? `${this.minKeys}` : `${this.minKeys} to ${this.maxKeys}`;
    return new Error(`Script ${this.name} takes ${expected} keys, got ${keys.length}`);
  }
}
