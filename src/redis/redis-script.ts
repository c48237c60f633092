import { readFileSync } from 'node:fs';
import { LuaScript } from '../lock';

/**
 * The app's Lua scripts: `LuaScript` (the lock library's EVALSHA-with-EVAL-fallback runner) loaded
 * from the `.lua` files beside the modules that use them.
 */
export class RedisScript extends LuaScript {
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
}
