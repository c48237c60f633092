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

  constructor(
    readonly name: string,
    readonly source: string,
    readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Reads `<dir>/<file>` (a path next to the calling module, e.g. `__dirname`). */
  static fromFile(dir: string, file: string, numberOfKeys: number): RedisScript {
    return new RedisScript(file, readFileSync(`${dir}/${file}`, 'utf8'), numberOfKeys);
  }

  /**
   * EVALSHA, falling back to EVAL on NOSCRIPT. `mapError` turns any other failure into the
   * caller's error type inside the same handler (one promise less on hot paths).
   */
  run<T = unknown>(client: Redis, keys: string[], args: Arg[], mapError?: (error: unknown) => Error): Promise<T> {
    if (keys.length !== this.numberOfKeys) {
      return Promise.reject(this.keyCountError(keys));
    }
    // No async wrapper: this sits on every lock operation's hot path.
    return (client.evalsha(this.sha, keys.length, ...keys, ...args) as Promise<T>).catch((error: unknown) => {
      if (!isNoScript(error)) {
        throw mapError ? mapError(error) : error;
      }
      const retry = client.eval(this.source, keys.length, ...keys, ...args) as Promise<T>;
      return mapError ? retry.catch((retryError: unknown) => Promise.reject(mapError(retryError))) : retry;
    });
  }

  /** Queues the script on a pipeline; pair with `runPipeline` to recover from NOSCRIPT. */
  queue(pipeline: ChainableCommander, keys: string[], args: Arg[]): ChainableCommander {
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

  private assertKeys(keys: string[]): void {
    if (keys.length !== this.numberOfKeys) {
      throw this.keyCountError(keys);
    }
  }

  private keyCountError(keys: string[]): Error {
    return new Error(`Script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
  }
}
