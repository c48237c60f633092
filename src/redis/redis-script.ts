import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

type Arg = string | number | Buffer;

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * A Lua script loaded once from its `.lua` file and run by SHA (EVALSHA), falling back to
 * EVAL on NOSCRIPT (a restarted or failed-over server has an empty script cache).
 * Works with any connection, so one script serves every node of a RedLock.
 */
export class RedisScript {
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

  /** Reads `<dir>/<file>` (a path next to the calling module, e.g. `__dirname`). */
  static fromFile(dir: string, file: string, keys: number | readonly [number, number]): RedisScript {
    return new RedisScript(file, readFileSync(`${dir}/${file}`, 'utf8'), keys);
  }

  /**
   * Reads `<dir>/<file>` with shared Lua functions prepended (e.g. `TOKEN_BUCKET_LUA`): Redis has
   * no include, and one chunk keeps the call a single EVALSHA.
   */
  static withPrelude(
    prelude: string,
    script: { dir: string; file: string; keys: number | readonly [number, number] },
  ): RedisScript {
    return new RedisScript(script.file, prelude + readFileSync(`${script.dir}/${script.file}`, 'utf8'), script.keys);
  }

  /**
   * EVALSHA, falling back to EVAL on NOSCRIPT. `mapError` turns any other failure into the
   * caller's error type inside the same handler.
   */
  run<T = unknown>(
    client: Redis,
    keys: readonly string[],
    args: Arg[],
    mapError?: (error: unknown) => Error,
  ): Promise<T> {
    return this.call(client, keys, args, (reply: T) => reply, mapError);
  }

  /**
   * `run` with the reply handler attached in the same step: one promise (and one microtask) per
   * call instead of two, for the lock's hot path.
   */
  call<T, R>(
    client: Redis,
    keys: readonly string[],
    args: Arg[],
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

  /** Queues the script on a pipeline; pair with `runPipeline` to recover from NOSCRIPT. */
  queue(pipeline: ChainableCommander, keys: readonly string[], args: Arg[]): ChainableCommander {
    this.assertKeys(keys);
    return pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
  }

  /** SCRIPT LOAD on a connection, e.g. before pipelining EVALSHA after a restart. */
  async load(client: Redis): Promise<void> {
    await client.script('LOAD', this.source);
  }

  /**
   * Runs a batch of calls of this script in one pipeline (one round trip). If the server lost its
   * script cache the batch is retried once after SCRIPT LOAD. Per-call errors are returned, not thrown.
   */
  async runPipeline<T = unknown>(client: Redis, calls: { keys: string[]; args: Arg[] }[]): Promise<(T | Error)[]> {
    const exec = async () => {
      const pipeline = client.pipeline();
      for (const call of calls) {
        this.queue(pipeline, call.keys, call.args);
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

  private assertKeys(keys: readonly string[]): void {
    if (!this.takes(keys)) {
      throw this.keyCountError(keys);
    }
  }

  private keyCountError(keys: readonly string[]): Error {
    const expected = this.minKeys === this.maxKeys ? `${this.minKeys}` : `${this.minKeys} to ${this.maxKeys}`;
    return new Error(`Script ${this.name} takes ${expected} keys, got ${keys.length}`);
  }
}
